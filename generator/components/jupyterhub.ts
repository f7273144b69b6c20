// JupyterHub through Slurm (Sandia): the Zero to JupyterHub chart with the hub authenticating
// users against the site's LDAP (spec.identity.ldap) and spawning each user's JupyterLab as a
// Slurm job (batchspawner), chosen from profiles per partition (wrapspawner). The hub submits as
// the user (sudo -u), so it runs as root in the site's hub image (batchspawner, wrapspawner,
// ldapauthenticator, the Slurm client and munge), with the cluster's munge key from SOPS; its API
// is on a MetalLB address the compute nodes' JupyterLab servers call back to.
import { Type } from '@sinclair/typebox';
import { Cidr, ChartVersion, DnsLabel, DnsName, DnsSubdomain, Enabled, HostName, ImageReference, imagePin, Ipv4, Quantity, SlurmMemory, SlurmName, SlurmTime } from '../spec/formats.ts';
import { defineComponent, type ReleaseDef } from './types.ts';
import { PoolChoice, reportAddressOutsidePools, reportUnknownPool } from './metallb.ts';
import { ingressFor } from './web.ts';
import { POOL_ANNOTATION } from './metallb.ts';
import { clusterSecretPath, sopsPlaceholder, type SecretDef } from '../secrets/types.ts';
import { show } from '../spec/diagnostics.ts';
import { isString, list } from '../spec/guards.ts';
import type { SiteModel } from '../model/site.ts';
import { ldapServer } from '../model/identity.ts';
import { MUNGE_SECRET_DIR, MUNGE_SOCKET, MUNGE_SOCKET_DIR, mungedScript } from './munge.ts';
import { MUNGE_KEY_SECRET, SLURM_NAMESPACE, SLURMCTLD_PORT, slurmClusterName } from './slurm.ts';

/** The hub API port: what the JupyterLab servers on the compute nodes call back to. */
export const HUB_API_PORT = 8081;
const SLURM_CONF = '/etc/slurm/slurm.conf';
export const MUNGE_SECRET = 'munge-key';
export const LDAP_SECRET = 'jupyterhub-ldap';

const NAME_EXPECTED = 'a Slurm name such as batch or gpu';

const Profile = Type.Object(
  {
    name: DnsLabel({ description: 'Profile key (in the spawn form and the job name).' }),
    display: Type.String({ minLength: 1, maxLength: 80, pattern: '^[A-Za-z0-9 ,.()/:+_-]+$', expected: 'a short label of letters, digits, spaces and , . ( ) / : + _ -', description: 'What users pick in the spawn form, e.g. "CPU, 4 cores, 8 hours".' }),
    partition: SlurmName({ expected: NAME_EXPECTED, description: 'Slurm partition of the job.' }),
    time: SlurmTime({ expected: 'a Slurm time limit such as 08:00:00 or 1-00:00:00', description: 'Time limit of the job (the server ends with it).' }),
    cpus: Type.Integer({ minimum: 1, maximum: 512, description: 'CPUs (cores) of the job.' }),
    memory: SlurmMemory({ description: 'Memory of the job (sbatch --mem).' }),
    gpus: Type.Optional(Type.Integer({ minimum: 1, maximum: 16, description: 'GPUs, requested as --gres=gpu:<n>.' })),
    account: Type.Optional(SlurmName({ expected: NAME_EXPECTED, description: 'Slurm account the job is charged to (default: the user\'s).' })),
  },
  { additionalProperties: false },
);
type ProfileSpec = { name: string; display: string; partition: string; time: string; cpus: number; memory: string; gpus?: number; account?: string };

/** The job every JupyterLab server runs in: batchspawner renders it with Jinja2 (its req_* and options values). */
export const BATCH_SCRIPT = [
  '#!/bin/bash',
  '#SBATCH --job-name=jupyterhub-{{username}}',
  '#SBATCH --output={{homedir}}/.jupyterhub-slurm-%j.log',
  '#SBATCH --chdir={{homedir}}',
  '#SBATCH --export={{keepvars}}',
  '#SBATCH --partition={{partition}}',
  '#SBATCH --time={{runtime}}',
  '#SBATCH --ntasks=1',
  '#SBATCH --cpus-per-task={{nprocs}}',
  '#SBATCH --mem={{memory}}',
  '{% if options %}#SBATCH {{options}}{% endif %}',
  'set -euo pipefail',
  '{{prologue}}',
  '{{cmd}}',
  '{{epilogue}}',
  '',
].join('\n');

/** A profile's extra sbatch options (one #SBATCH line): its GPUs as GRES and its account. */
export const profileOptions = (p: ProfileSpec) => [...(p.gpus ? [`--gres=gpu:${p.gpus}`] : []), ...(p.account ? [`--account=${p.account}`] : [])].join(' ');

/**
 * The Slurm client configuration the hub's sbatch, squeue and scancel read: where the controller
 * is, how to authenticate, and the GRES types the profiles ask for (sbatch refuses a --gres whose
 * type its own configuration does not declare).
 */
export function slurmClientConf(slurm: { clusterName: string; controller: string; port: number }, gresTypes: readonly string[] = []): string {
  return [
    `ClusterName=${slurm.clusterName}`,
    `SlurmctldHost=${slurm.controller}`,
    `SlurmctldPort=${slurm.port}`,
    'AuthType=auth/munge',
    `AuthInfo=socket=${MUNGE_SOCKET}`,
    ...(gresTypes.length ? [`GresTypes=${gresTypes.join(',')}`] : []),
    '',
  ].join('\n');
}

/** The hub image as the chart takes it: name and tag. */
function splitImage(image: string): { name: string; tag: string } {
  const at = image.lastIndexOf(':');
  return { name: image.slice(0, at), tag: image.slice(at + 1) };
}

/** The control plane of spec.components.slurm, as the hub's client configuration names it. */
function inClusterSlurm(site: SiteModel): { clusterName: string; controller: string; port: number } {
  const s = site.componentSettings.slurm;
  return { clusterName: slurmClusterName(site, s), controller: s.hostname!, port: SLURMCTLD_PORT };
}

export function hubApiHost(settings: { hub: { hostname?: string; loadBalancerIP?: string } }): string {
  return settings.hub.hostname ?? settings.hub.loadBalancerIP!;
}

export const jupyterhub = defineComponent({
  name: 'jupyterhub',
  title: 'JupyterHub: users sign in with LDAP and get JupyterLab as a Slurm job (batchspawner, profiles per partition)',
  dependsOn: ['namespaces', 'metallb', 'ingressNginx', 'certManager', 'slurm'],
  notUnderHpk: 'the hub submits Slurm jobs as each user (sudo -u, as root, with the cluster\'s munge key), which an HPK user\'s cluster cannot do, and its API needs a LoadBalancer address',
  requires: ['metallb'],
  settings: Type.Object(
    {
      enabled: Enabled(false),
      chartVersion: ChartVersion(),
      hubImage: Type.Optional(ImageReference({ description: 'The hub image: Zero to JupyterHub\'s k8s-hub with batchspawner, wrapspawner, jupyterhub-ldapauthenticator, the Slurm client (sbatch, squeue, scancel), munge and sudo added; pinned by tag. Required.' })),
      hostname: Type.Optional(DnsName({ description: 'Where users open JupyterHub (default jupyter.<domain>), through the ingress with the site CA\'s TLS.' })),
      hub: Type.Object(
        {
          pool: PoolChoice(),
          loadBalancerIP: Type.Optional(Ipv4({ description: 'The hub API address the JupyterLab servers on the compute nodes call back to (inside a MetalLB pool). Required unless hostname is set.' })),
          hostname: Type.Optional(DnsSubdomain({ description: 'A DNS name of that address (the servers call it by name then).' })),
        },
        { additionalProperties: false, default: {}, description: 'The hub API, reachable from the compute nodes.' },
      ),
      computeNetworks: Type.Array(Cidr(), { minItems: 1, default: ['0.0.0.0/0'], description: 'Networks of the compute nodes: the only senders the hub API (NetworkPolicy) accepts besides the cluster\'s own pods.' }),
      slurm: Type.Optional(
        Type.Object(
          {
            clusterName: DnsLabel({ description: 'The Slurm cluster name (slurm.conf ClusterName).' }),
            controller: HostName({ description: 'slurmctld\'s host.' }),
            port: Type.Integer({ minimum: 1, maximum: 65535, default: 6817, description: 'slurmctld\'s port.' }),
          },
          { additionalProperties: false, description: 'The Slurm cluster the hub submits to (default with spec.components.slurm: that control plane); the munge key is a SOPS secret you fill in (secrets/cluster/jupyterhub/munge-key).' },
        ),
      ),
      allowedGroups: Type.Array(Type.String({ pattern: '^[A-Za-z0-9 ._@-]{1,128}$', expected: 'an LDAP group name or DN' }), { default: [], description: 'LDAP groups whose members may sign in (empty: every user of spec.identity.ldap).' }),
      profiles: Type.Array(Profile, { default: [], description: 'What users choose from when they start a server: one Slurm job shape each (partition, time, CPUs, memory, GPUs).' }),
      idleTimeoutSeconds: Type.Integer({ minimum: 300, maximum: 604800, default: 3600, description: 'An idle server is stopped (its Slurm job cancelled) after this long.' }),
      dbSize: Quantity({ default: '1Gi', description: 'The hub\'s database volume (from the site\'s default class).' }),
    },
    { additionalProperties: false },
  ),
  check(ctx, settings) {
    const at = ['spec', 'components', 'jupyterhub'];
    const image = settings?.hubImage;
    if (!isString(image)) {
      ctx.report('error', at, 'JupyterHub needs the site\'s hub image (with batchspawner, wrapspawner, ldapauthenticator, the Slurm client and munge)', { expected: 'hubImage: registry.example.edu/hpc/k8s-hub-slurm:4.4.0', hint: 'build it FROM quay.io/jupyterhub/k8s-hub at the chart\'s version and set hubImage' });
    } else {
      const { tag, digest } = imagePin(image);
      if (digest !== undefined || tag === undefined) ctx.report('error', [...at, 'hubImage'], `the hub image ${show(image)} needs a tag (the chart takes name and tag)`, { hint: 'pin a version tag' });
    }
    if (!ctx.spec.spec?.identity?.ldap) {
      ctx.report('error', at, 'JupyterHub signs users in against the site\'s LDAP, and spec.identity.ldap is not set', { expected: 'spec.identity.ldap: {url: ldaps://..., userBase: ou=people,...}', hint: 'describe the directory under spec.identity.ldap' });
    }
    const inCluster = (ctx.spec.spec?.components?.slurm as { enabled?: unknown } | undefined)?.enabled === true;
    if (!settings?.slurm && !inCluster) ctx.report('error', at, 'JupyterHub spawns servers as Slurm jobs, and slurm (clusterName, controller) is not set', { hint: 'set slurm: {clusterName: <name>, controller: <slurmctld host>}, or enable spec.components.slurm' });
    if (!list(settings?.profiles).length) ctx.report('error', [...at, 'profiles'], 'JupyterHub has no profiles for users to start a server with', { expected: 'profiles: [{name: cpu, display: "CPU, 4 cores", partition: batch, time: "08:00:00", cpus: 4, memory: 16G}]', hint: 'add at least one profile' });
    const names = list<any>(settings?.profiles).map((p) => p?.name);
    names.forEach((n, i) => {
      if (isString(n) && names.indexOf(n) !== i) ctx.report('error', [...at, 'profiles', i, 'name'], `profile ${show(n)} is listed twice`, { hint: 'each profile needs its own name' });
    });
    const hub = settings?.hub as { loadBalancerIP?: unknown; hostname?: unknown; pool?: unknown } | undefined;
    if (!isString(hub?.loadBalancerIP) && !isString(hub?.hostname)) {
      ctx.report('error', [...at, 'hub'], 'the JupyterLab servers on the compute nodes must call the hub API back, and it has neither loadBalancerIP nor hostname', { hint: 'set hub.loadBalancerIP (an address in a MetalLB pool), or hub.hostname' });
    }
    if (isString(hub?.pool)) reportUnknownPool(ctx, [...at, 'hub', 'pool'], hub.pool);
    if (isString(hub?.loadBalancerIP)) reportAddressOutsidePools(ctx, [...at, 'hub', 'loadBalancerIP'], hub.loadBalancerIP, isString(hub?.pool) ? hub.pool : undefined);
  },
  secrets(site): SecretDef[] {
    const ldap = site.identity.ldap;
    const inCluster = site.componentSettings.slurm.enabled;
    return [
      {
        name: MUNGE_SECRET,
        scope: 'cluster',
        namespace: 'jupyterhub',
        description: 'The Slurm cluster\'s munge key, base64 (the hub\'s munged authenticates its sbatch with it)',
        data: {
          'munge.key.b64': sopsPlaceholder(
            'jupyterhub',
            MUNGE_SECRET,
            'munge.key.b64',
            inCluster ? ` to the munge.key.b64 of ${clusterSecretPath(SLURM_NAMESPACE, MUNGE_KEY_SECRET)}` : ' to base64 of the cluster\'s /etc/munge/munge.key',
          ),
        },
      },
      ...(ldap?.bindDn
        ? [
            {
              name: LDAP_SECRET,
              scope: 'cluster' as const,
              namespace: 'jupyterhub',
              description: `The password of ${ldap.bindDn}, which the hub searches the directory as`,
              data: { password: sopsPlaceholder('jupyterhub', LDAP_SECRET, 'password') },
              helmValues: { release: 'jupyterhub', build: (d: Readonly<Record<string, string>>) => ({ jupyterhub: { hub: { config: { LDAPAuthenticator: { lookup_dn_search_password: d.password } } } } }) },
            },
          ]
        : []),
    ];
  },
  releases(site: SiteModel, settings): ReleaseDef[] {
    const ldap = site.identity.ldap!;
    const slurm = settings.slurm ?? inClusterSlurm(site);
    const profiles = settings.profiles as ProfileSpec[];
    const server = ldapServer(ldap);
    const ingress = ingressFor(site, settings.hostname ?? `jupyter.${site.domain}`, 'jupyterhub-tls', { orLoadBalancer: true });
    const hubImage = splitImage(settings.hubImage!);
    return [
      {
        name: 'jupyterhub',
        layer: 'apps',
        description: 'JupyterHub spawning JupyterLab as Slurm jobs, users from LDAP',
        scope: 'cluster',
        namespace: 'jupyterhub',
        upstream: { chart: 'jupyterhub' },
        templates: { 'slurm.yaml': SLURM_TEMPLATE },
        valuesSchema: { type: 'object', additionalProperties: false, required: ['slurmConf'], properties: { slurmConf: { type: 'string' } } },
        images: [settings.hubImage!],
        podTolerations: { 'hub.tolerations': [], 'proxy.chp.tolerations': [] },
        values: {
          slurmConf: slurmClientConf(slurm, profiles.some((p) => p.gpus) ? ['gpu'] : []),
          jupyterhub: {
            hub: {
              image: hubImage,
              // batchspawner submits as the user: sudo -u <user> sbatch, so the hub runs as root.
              podSecurityContext: { runAsNonRoot: false, fsGroup: 0, seccompProfile: { type: 'RuntimeDefault' } },
              containerSecurityContext: { runAsUser: 0, runAsGroup: 0, allowPrivilegeEscalation: true },
              db: { pvc: { storage: settings.dbSize } },
              service: {
                type: 'LoadBalancer',
                ...(settings.hub.loadBalancerIP ? { loadBalancerIP: settings.hub.loadBalancerIP } : {}),
                ...(settings.hub.pool ? { annotations: { [POOL_ANNOTATION]: settings.hub.pool } } : {}),
              },
              networkPolicy: {
                // The JupyterLab servers on the compute nodes call the hub API back.
                ingress: [{ from: settings.computeNetworks.map((cidr) => ({ ipBlock: { cidr } })), ports: [{ port: HUB_API_PORT, protocol: 'TCP' }] }],
              },
              config: {
                JupyterHub: {
                  authenticator_class: 'ldapauthenticator.LDAPAuthenticator',
                  spawner_class: 'wrapspawner.ProfilesSpawner',
                  hub_bind_url: `http://:${HUB_API_PORT}`,
                  hub_connect_url: `http://${hubApiHost(settings as never)}:${HUB_API_PORT}`,
                  // Admins do not get into users' servers (the chart's default lets them): a server runs as its user.
                  admin_access: false,
                },
                LDAPAuthenticator: {
                  server_address: server.host,
                  server_port: server.port,
                  ...(server.ssl ? { tls_strategy: 'on_connect' } : { tls_strategy: ldap.startTls ? 'before_bind' : 'insecure' }),
                  user_search_base: ldap.userBase,
                  user_attribute: ldap.userAttribute,
                  ...(ldap.bindDn ? { lookup_dn: true, lookup_dn_search_user: ldap.bindDn, lookup_dn_user_dn_attribute: ldap.userAttribute } : { bind_dn_template: [`${ldap.userAttribute}={username},${ldap.userBase}`] }),
                  ...(settings.allowedGroups.length ? { allowed_groups: settings.allowedGroups } : {}),
                },
                Authenticator: { allow_all: settings.allowedGroups.length === 0 },
                ProfilesSpawner: {
                  profiles: profiles.map((p) => [
                    p.display,
                    p.name,
                    'batchspawner.SlurmSpawner',
                    { req_partition: p.partition, req_runtime: p.time, req_nprocs: String(p.cpus), req_memory: p.memory, req_options: profileOptions(p) },
                  ]),
                },
                SlurmSpawner: { batch_script: BATCH_SCRIPT, exec_prefix: 'sudo -E -u {username}', start_timeout: 600 },
              },
              extraVolumes: [
                { name: 'slurm-conf', configMap: { name: 'slurm-client' } },
                { name: 'munge-key', secret: { secretName: MUNGE_SECRET, defaultMode: 0o400 } },
                { name: 'munge-run', emptyDir: {} },
              ],
              extraVolumeMounts: [
                { name: 'slurm-conf', mountPath: SLURM_CONF, subPath: 'slurm.conf', readOnly: true },
                { name: 'munge-run', mountPath: MUNGE_SOCKET_DIR },
              ],
              // munged beside the hub, with the cluster's key: sbatch authenticates through its socket.
              extraContainers: [
                {
                  name: 'munged',
                  image: settings.hubImage,
                  command: ['sh', '-c', mungedScript('/tmp', false)],
                  securityContext: { runAsUser: 0, runAsGroup: 0, allowPrivilegeEscalation: false },
                  volumeMounts: [
                    { name: 'munge-key', mountPath: MUNGE_SECRET_DIR, readOnly: true },
                    { name: 'munge-run', mountPath: MUNGE_SOCKET_DIR },
                  ],
                },
              ],
            },
            proxy: { service: { type: ingress ? 'ClusterIP' : 'LoadBalancer' } },
            ...(ingress ? { ingress: { enabled: true, ...ingress } } : {}),
            cull: { enabled: true, timeout: settings.idleTimeoutSeconds },
            // Servers are Slurm jobs, not pods: nothing to pre-pull or pack onto nodes.
            prePuller: { hook: { enabled: false }, continuous: { enabled: false } },
            scheduling: { userScheduler: { enabled: false }, userPlaceholder: { enabled: false } },
          },
        },
      },
    ];
  },
});

const SLURM_TEMPLATE = `apiVersion: v1
kind: ConfigMap
metadata:
  name: slurm-client
  namespace: {{ .Release.Namespace | quote }}
  labels:
    app.kubernetes.io/managed-by: {{ .Release.Service | quote }}
    app.kubernetes.io/part-of: siteforge
data:
  slurm.conf: {{ .Values.slurmConf | quote }}
`;
