// MetalLB: LoadBalancer addresses on the HPC network (L2 advertisement).
import { Type } from '@sinclair/typebox';
import { Enabled, ChartVersion } from '../spec/formats.ts';
import { defineComponent, type ReleaseDef, webhookCaBundles, conversionCaBundle } from './types.ts';
import { helmObject } from './labels.ts';
import { isString, list } from '../spec/guards.ts';
import { contains, overlaps, parseCidr, parseIpv4, parseRange, poolContaining } from '../spec/net.ts';
import type { RuleContext } from '../spec/rules.ts';
import type { PathSegment } from '../spec/diagnostics.ts';

const IP_RANGE = '^((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(/(3[0-2]|[12]?[0-9])|-((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9]))$';

const POOL_TEMPLATE = `${helmObject('metallb.io/v1beta1', 'IPAddressPool', { name: '{{ .Values.pool | quote }}', namespace: '{{ .Release.Namespace | quote }}' })}
spec:
  addresses:
    {{- toYaml .Values.addresses | nindent 4 }}
  autoAssign: true
---
${helmObject('metallb.io/v1beta1', 'L2Advertisement', { name: '{{ .Values.pool | quote }}', namespace: '{{ .Release.Namespace | quote }}' })}
spec:
  ipAddressPools:
    - {{ .Values.pool | quote }}
`;

export const metallb = defineComponent({
  name: 'metallb',
  title: 'MetalLB load balancer (IPAddressPool + L2Advertisement)',
  dependsOn: [],
  settings: Type.Object(
    {
      enabled: Enabled(false),
      chartVersion: ChartVersion(),
      addresses: Type.Array(
        Type.String({ pattern: IP_RANGE, expected: 'an address range 10.40.0.200-10.40.0.210 or a CIDR 10.40.0.192/28' }),
        { default: [], description: 'Addresses MetalLB may hand out; required when enabled.' },
      ),
    },
    { additionalProperties: false },
  ),
  releases: (site, settings): ReleaseDef[] => [
    {
      name: 'metallb',
      layer: 'operators',
      description: 'MetalLB load-balancer controller and speakers',
      scope: 'cluster',
      namespace: 'metallb-system',
      upstream: { chart: 'metallb' },
      // MetalLB's cert controller (and frr-k8s's) patches the webhooks' and the BGPPeer conversion CA.
      selfMutated: [...webhookCaBundles(['ValidatingWebhookConfiguration'], 6), conversionCaBundle('bgppeers.metallb.io')],
      // Where the chart takes pod tolerations, with its defaults at the pin (kept beside spec.placement's).
      podTolerations: {
        'controller.tolerations': [],
        'speaker.tolerations': [],
        'frr-k8s.frrk8s.tolerations': [],
      },
      values: { metallb: { speaker: { frr: { enabled: false } } } },
    },
    {
      name: 'metallb-config',
      description: `MetalLB address pool and L2 advertisement of site ${site.name}`,
      scope: 'cluster',
      namespace: 'metallb-system',
      after: ['metallb'],
      values: { pool: `${site.name}-pool`, addresses: settings.addresses },
      valuesSchema: {
        type: 'object',
        required: ['pool', 'addresses'],
        additionalProperties: false,
        properties: { pool: { type: 'string' }, addresses: { type: 'array', minItems: 1, items: { type: 'string' } } },
      },
      templates: { 'pool.yaml': POOL_TEMPLATE },
    },
  ],
  check(ctx, settings) {
    const addresses = list<unknown>(settings?.addresses);
    if (!addresses.length) {
      ctx.report('error', ['spec', 'components', 'metallb'], 'MetalLB is enabled but has no addresses', {
        expected: 'addresses: a list of ranges such as 10.40.0.200-10.40.0.210',
        hint: 'give MetalLB a few free addresses on the node network, or disable it',
      });
    }
    const dist = (ctx.spec.spec?.distribution ?? {}) as any;
    const reserved = [
      ['clusterCIDR', isString(dist.clusterCIDR) ? parseCidr(dist.clusterCIDR) : null],
      ['serviceCIDR', isString(dist.serviceCIDR) ? parseCidr(dist.serviceCIDR) : null],
    ] as const;
    const nodeIps = list<any>(ctx.spec.spec?.nodes).flatMap((n) => [n?.address, ...Object.values(n?.extraAddresses ?? {})]).filter(isString);
    addresses.forEach((text, i) => {
      const range = isString(text) ? parseRange(text) : null;
      const path = ['spec', 'components', 'metallb', 'addresses', i];
      if (!range) return;
      if (range.first > range.last) {
        ctx.report('error', path, `range "${text}" ends before it starts`, { hint: 'write the lower address first' });
        return;
      }
      for (const [name, cidr] of reserved) {
        if (cidr && overlaps(range, cidr)) ctx.report('error', path, `"${text}" overlaps ${name} ${dist[name]}`, { hint: 'MetalLB addresses must come from the node network, outside the pod and service ranges' });
      }
      const clash = nodeIps.find((ip) => contains(range, parseIpv4(ip) ?? -1));
      if (clash) ctx.report('error', path, `"${text}" includes node address ${clash}`, { hint: 'leave node addresses out of the MetalLB pool' });
    });
  },
});

/** An address a component asks MetalLB for must lie in one of the site's pools (error at `path` otherwise). */
export function reportAddressOutsidePools(ctx: RuleContext, path: PathSegment[], ip: string): void {
  const n = parseIpv4(ip);
  const pools = list<unknown>((ctx.spec.spec?.components?.metallb as { addresses?: unknown } | undefined)?.addresses).filter((a): a is string => typeof a === 'string');
  if (n !== null && pools.length && !poolContaining(n, pools)) {
    ctx.report('error', path, `${ip} is outside every MetalLB pool (${pools.join(', ')})`, { hint: 'choose an address inside spec.components.metallb.addresses' });
  }
}
