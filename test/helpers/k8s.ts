// Validation of rendered Kubernetes documents against the published schemas
// (kubernetes-models and @kubernetes-models/*): each kind is looked up by apiVersion and kind.
import { parseAllDocuments } from 'yaml';

type Model = { new (data: unknown): { validate(): void } };

/** apiVersion → module prefix that exports one model per kind. */
const MODULES: Record<string, string> = {
  v1: 'kubernetes-models/v1',
  'apps/v1': 'kubernetes-models/apps/v1',
  'batch/v1': 'kubernetes-models/batch/v1',
  'rbac.authorization.k8s.io/v1': 'kubernetes-models/rbac.authorization.k8s.io/v1',
  'networking.k8s.io/v1': 'kubernetes-models/networking.k8s.io/v1',
  'storage.k8s.io/v1': 'kubernetes-models/storage.k8s.io/v1',
  'policy/v1': 'kubernetes-models/policy/v1',
  'admissionregistration.k8s.io/v1': 'kubernetes-models/admissionregistration.k8s.io/v1',
  'argoproj.io/v1alpha1': '@kubernetes-models/argo-workflows/argoproj.io/v1alpha1',
  'cert-manager.io/v1': '@kubernetes-models/cert-manager/cert-manager.io/v1',
  'source.toolkit.fluxcd.io/v1': '@kubernetes-models/flux-cd/source.toolkit.fluxcd.io/v1',
  'kustomize.toolkit.fluxcd.io/v1': '@kubernetes-models/flux-cd/kustomize.toolkit.fluxcd.io/v1',
  'helm.toolkit.fluxcd.io/v2': '@kubernetes-models/flux-cd/helm.toolkit.fluxcd.io/v2',
  'notification.toolkit.fluxcd.io/v1beta3': '@kubernetes-models/flux-cd/notification.toolkit.fluxcd.io/v1beta3',
};

/** argoproj.io/v1alpha1 kinds that belong to Argo CD rather than Argo Workflows. */
const ARGO_CD_KINDS = new Set(['Application', 'AppProject', 'ApplicationSet']);

/** Custom resources no published model covers; they get the generic metadata checks only. */
export const WITHOUT_MODEL = new Set([
  'metallb.io/v1beta1/IPAddressPool',
  'metallb.io/v1beta1/L2Advertisement',
  'mellanox.com/v1alpha1/NicClusterPolicy',
  'mellanox.com/v1alpha1/MacvlanNetwork',
  'mellanox.com/v1alpha1/IPoIBNetwork',
  'nv-ipam.nvidia.com/v1alpha1/IPPool',
  // verify checks it against the CRD the network-operator chart ships.
  'k8s.cni.cncf.io/v1/NetworkAttachmentDefinition',
  'sriovnetwork.openshift.io/v1/SriovNetworkNodePolicy',
  'sriovnetwork.openshift.io/v1/SriovNetwork',
  // verify checks it, strictly, against the CRD of the kube-prometheus-stack chart it deploys with.
  'monitoring.coreos.com/v1/PrometheusRule',
  'monitoring.coreos.com/v1/ServiceMonitor',
]);

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export interface K8sDocument {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}

export function parseManifests(text: string): K8sDocument[] {
  return parseAllDocuments(text)
    .map((d) => {
      if (d.errors.length) throw new Error(`YAML error: ${d.errors[0]!.message}`);
      return d.toJS() as K8sDocument | null;
    })
    .filter((d): d is K8sDocument => d !== null);
}

/**
 * @kubernetes-models/argo-workflows is generated from Argo's Go types, where a step group
 * (ParallelSteps) is a struct; Argo itself reads and writes it as a plain list, the only form its
 * JSON decoder accepts. Wrap step groups the way the model expects before validating.
 */
function modelShape(doc: K8sDocument): K8sDocument {
  if (doc.apiVersion !== 'argoproj.io/v1alpha1') return doc;
  const copy = structuredClone(doc) as any;
  const specs = [copy.spec, copy.spec?.workflowSpec].filter(Boolean);
  for (const spec of specs) {
    for (const tpl of spec.templates ?? []) {
      if (Array.isArray(tpl.steps)) tpl.steps = tpl.steps.map((group: unknown) => (Array.isArray(group) ? { steps: group } : group));
    }
  }
  return copy;
}

/** Problems with one document ([] when valid). */
export async function validateDocument(doc: K8sDocument): Promise<string[]> {
  const id = `${doc.kind}/${doc.metadata?.name}`;
  const problems: string[] = [];
  if (!doc.metadata?.name || doc.metadata.name.length > 253 || !DNS_SUBDOMAIN.test(doc.metadata.name)) problems.push(`${id}: invalid metadata.name`);
  if (doc.metadata?.namespace !== undefined && !DNS_LABEL.test(doc.metadata.namespace)) problems.push(`${id}: invalid namespace`);
  const key = `${doc.apiVersion}/${doc.kind}`;
  if (WITHOUT_MODEL.has(key)) return problems;
  const prefix = ARGO_CD_KINDS.has(doc.kind) && doc.apiVersion === 'argoproj.io/v1alpha1' ? '@kubernetes-models/argo-cd/argoproj.io/v1alpha1' : MODULES[doc.apiVersion];
  if (!prefix) return [...problems, `${id}: no schema known for ${doc.apiVersion}`];
  let model: Model;
  try {
    model = ((await import(`${prefix}/${doc.kind}`)) as Record<string, Model>)[doc.kind]!;
  } catch {
    return [...problems, `${id}: no schema for kind ${key}`];
  }
  try {
    new model(modelShape(doc)).validate();
  } catch (e) {
    problems.push(`${id}: ${(e as Error).message}`);
  }
  return problems;
}
