// The component catalog: every component siteforge knows, in the order people read them.
// Adding a component = one new module plus one line here.
import { namespaces } from './namespaces.ts';
import { storage } from './storage.ts';
import { certManager } from './cert-manager.ts';
import { metallb } from './metallb.ts';
import { ingressNginx } from './ingress-nginx.ts';
import { externalDns } from './external-dns.ts';
import { gpuOperator } from './gpu-operator.ts';
import { networkOperator } from './network-operator.ts';
import { mpiOperator } from './mpi-operator.ts';
import { sparkOperator } from './spark-operator.ts';
import { monitoring } from './monitoring.ts';
import { harbor } from './harbor.ts';
import { argoWorkflows } from './argo-workflows.ts';
import { sshProxy } from './ssh-proxy.ts';
import { staticPages } from './static-pages.ts';
import { syslog } from './syslog.ts';
import { jupyterhub } from './jupyterhub.ts';
import { slurm } from './slurm.ts';
import { argoCd } from './argo-cd.ts';
import type { ComponentModule } from './types.ts';

export const catalog = {
  namespaces,
  storage,
  certManager,
  metallb,
  ingressNginx,
  externalDns,
  gpuOperator,
  networkOperator,
  mpiOperator,
  sparkOperator,
  monitoring,
  harbor,
  argoWorkflows,
  sshProxy,
  staticPages,
  syslog,
  jupyterhub,
  slurm,
  argoCd,
} as const;

export type ComponentName = keyof typeof catalog;

export const componentNames = Object.keys(catalog) as ComponentName[];

export function componentModule(name: ComponentName): ComponentModule {
  return catalog[name] as unknown as ComponentModule;
}
