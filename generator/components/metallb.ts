// MetalLB: LoadBalancer addresses on the HPC network: a default pool (L2) and named pools (L2 or
// BGP) that components choose.
import { Type } from '@sinclair/typebox';
import { DnsLabel, Enabled, ChartVersion, InterfaceName, Ipv4, OneOf } from '../spec/formats.ts';
import { defineComponent, type ReleaseDef, webhookCaBundles, conversionCaBundle } from './types.ts';
import { helmObject } from './labels.ts';
import { isString, list } from '../spec/guards.ts';
import { contains, overlaps, parseCidr, parseIpv4, parseRange, poolContaining } from '../spec/net.ts';
import type { RuleContext } from '../spec/rules.ts';
import type { PathSegment } from '../spec/diagnostics.ts';

const IP_RANGE = '^((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(/(3[0-2]|[12]?[0-9])|-((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9]))$';

const POOL_TEMPLATE = `{{- range .Values.pools }}
---
${helmObject('metallb.io/v1beta1', 'IPAddressPool', { name: '{{ .name | quote }}', namespace: '{{ $.Release.Namespace | quote }}', inRange: true })}
spec:
  addresses:
    {{- toYaml .addresses | nindent 4 }}
  autoAssign: {{ .autoAssign }}
---
{{- if eq .advertisement "bgp" }}
${helmObject('metallb.io/v1beta1', 'BGPAdvertisement', { name: '{{ .name | quote }}', namespace: '{{ $.Release.Namespace | quote }}', inRange: true })}
spec:
  ipAddressPools:
    - {{ .name | quote }}
{{- else }}
${helmObject('metallb.io/v1beta1', 'L2Advertisement', { name: '{{ .name | quote }}', namespace: '{{ $.Release.Namespace | quote }}', inRange: true })}
spec:
  ipAddressPools:
    - {{ .name | quote }}
  {{- with .interfaces }}
  interfaces:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}
{{- end }}
{{- range .Values.peers }}
---
${helmObject('metallb.io/v1beta2', 'BGPPeer', { name: '{{ .name | quote }}', namespace: '{{ $.Release.Namespace | quote }}', inRange: true })}
spec:
  peerAddress: {{ .address | quote }}
  peerASN: {{ .peerASN }}
  myASN: {{ .myASN }}
{{- end }}
`;

/** One address pool MetalLB hands out addresses from. */
export interface AddressPool {
  readonly name: string;
  readonly addresses: readonly string[];
  readonly advertisement: 'l2' | 'bgp';
  /** Services that name no pool get addresses from it. */
  readonly autoAssign: boolean;
  readonly interfaces?: readonly string[];
}

/** The default pool's name: spec.components.metallb.addresses. */
export const defaultPoolName = (site: string) => `${site}-pool`;

/** Every pool of the site: the default one (addresses, L2, auto-assigned) first, then the named pools. */
export function addressPools(site: string, settings: { addresses?: unknown; pools?: unknown } | undefined): AddressPool[] {
  const strings = (v: unknown) => list<unknown>(v).filter(isString);
  const addresses = strings(settings?.addresses);
  return [
    ...(addresses.length ? [{ name: defaultPoolName(site), addresses, advertisement: 'l2' as const, autoAssign: true }] : []),
    ...list<any>(settings?.pools)
      .filter((p) => isString(p?.name))
      .map((p) => ({ name: p.name as string, addresses: strings(p.addresses), advertisement: p.advertisement === 'bgp' ? ('bgp' as const) : ('l2' as const), autoAssign: p.autoAssign === true, ...(Array.isArray(p.interfaces) ? { interfaces: strings(p.interfaces) } : {}) })),
  ];
}

/** The pools as the validation rules read them, from the spec as written. */
const specPools = (ctx: RuleContext) => addressPools(String(ctx.spec.metadata?.name ?? 'site'), ctx.spec.spec?.components?.metallb as never);

/** Service annotation choosing the pool a LoadBalancer address comes from. */
export const POOL_ANNOTATION = 'metallb.io/address-pool';

/** A component's `pool` setting. */
export const PoolChoice = () => Type.Optional(DnsLabel({ description: 'MetalLB pool its address comes from: a spec.components.metallb.pools name, or <site>-pool for the default addresses (default: any auto-assigned pool).' }));

export const metallb = defineComponent({
  name: 'metallb',
  title: 'MetalLB load balancer (address pools announced by L2 or BGP)',
  dependsOn: [],
  notUnderHpk: 'its speakers announce LoadBalancer addresses from every node (a host-network DaemonSet), and HPK has no nodes and no LoadBalancer Services: every Service is headless',
  settings: Type.Object(
    {
      enabled: Enabled(false),
      chartVersion: ChartVersion(),
      addresses: Type.Array(
        Type.String({ pattern: IP_RANGE, expected: 'an address range 10.40.0.200-10.40.0.210 or a CIDR 10.40.0.192/28' }),
        { default: [], description: 'The default pool (<site>-pool, L2, handed out to any Service that names no pool); addresses or pools are required when enabled.' },
      ),
      pools: Type.Array(
        Type.Object(
          {
            name: DnsLabel({ description: 'Pool name components choose (their pool setting).' }),
            addresses: Type.Array(Type.String({ pattern: IP_RANGE, expected: 'an address range 10.40.0.200-10.40.0.210 or a CIDR 10.40.0.192/28' }), { minItems: 1, description: 'Its addresses; disjoint from every other pool.' }),
            advertisement: OneOf(['l2', 'bgp'], { default: 'l2', description: 'l2: ARP/NDP from a node on the segment; bgp: routes announced to bgpPeers.' }),
            autoAssign: Type.Boolean({ default: false, description: 'Also hand its addresses to Services that name no pool.' }),
            interfaces: Type.Optional(Type.Array(InterfaceName(), { minItems: 1, description: 'l2: announce only on these node interfaces (e.g. the public network\'s).' })),
          },
          { additionalProperties: false },
        ),
        { default: [], description: 'Named pools (e.g. public, internal) beside the default one.' },
      ),
      bgpPeers: Type.Array(
        Type.Object(
          {
            name: DnsLabel({ description: 'Peer name.' }),
            address: Ipv4({ description: 'The router\'s address.' }),
            peerASN: Type.Integer({ minimum: 1, maximum: 4294967295, description: 'The router\'s AS number.' }),
            myASN: Type.Integer({ minimum: 1, maximum: 4294967295, description: 'The cluster\'s AS number.' }),
          },
          { additionalProperties: false },
        ),
        { default: [], description: 'BGP routers the bgp pools are announced to.' },
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
      values: { pools: addressPools(site.name, settings), peers: settings.bgpPeers },
      valuesSchema: {
        type: 'object',
        required: ['pools', 'peers'],
        additionalProperties: false,
        properties: { pools: { type: 'array', minItems: 1, items: { type: 'object', required: ['name', 'addresses', 'advertisement', 'autoAssign'] } }, peers: { type: 'array' } },
      },
      templates: { 'pool.yaml': POOL_TEMPLATE },
    },
  ],
  check(ctx, settings) {
    const pools = specPools(ctx);
    if (!pools.length) {
      ctx.report('error', ['spec', 'components', 'metallb'], 'MetalLB is enabled but has no addresses', {
        expected: 'addresses: a list of ranges such as 10.40.0.200-10.40.0.210 (or named pools)',
        hint: 'give MetalLB a few free addresses on the node network, or disable it',
      });
    }
    const at = ['spec', 'components', 'metallb'];
    const named = list<any>(settings?.pools);
    const defaultPool = defaultPoolName(String(ctx.spec.metadata?.name ?? 'site'));
    named.forEach((p, i) => {
      if (!isString(p?.name)) return;
      if (p.name === defaultPool) ctx.report('error', [...at, 'pools', i, 'name'], `"${p.name}" is the default pool's name (spec.components.metallb.addresses)`, { hint: 'choose another name' });
      if (named.findIndex((q) => q?.name === p.name) !== i) ctx.report('error', [...at, 'pools', i, 'name'], `pool "${p.name}" is defined twice`, { hint: 'each pool once' });
      if (p.advertisement === 'bgp' && !list<unknown>(settings?.bgpPeers).length) ctx.report('error', [...at, 'pools', i, 'advertisement'], `pool "${p.name}" is announced by BGP, and there are no bgpPeers`, { hint: 'add the router under bgpPeers, or use advertisement: l2' });
    });
    // Every range of every pool, where the spec writes it: the default pool's addresses, then each named pool's.
    const allRanges = [
      ...list<unknown>(settings?.addresses).map((text, i) => ({ pool: defaultPool, text, path: [...at, 'addresses', i] as PathSegment[] })),
      ...named.flatMap((p, i) => list<unknown>(p?.addresses).map((text, j) => ({ pool: String(p?.name), text, path: [...at, 'pools', i, 'addresses', j] as PathSegment[] }))),
    ].map((r) => ({ ...r, range: isString(r.text) ? parseRange(r.text) : null }));
    // Pools are disjoint: an address belongs to one pool, so one component's address is never another's.
    allRanges.forEach((r, i) => {
      const other = allRanges.slice(0, i).find((o) => o.range && r.range && overlaps(r.range, o.range));
      if (other) ctx.report('error', r.path, `"${r.text}" of pool ${r.pool} overlaps "${other.text}" of pool ${other.pool}`, { hint: 'keep MetalLB pools disjoint' });
    });
    const dist = (ctx.spec.spec?.distribution ?? {}) as any;
    const reserved = [
      ['clusterCIDR', isString(dist.clusterCIDR) ? parseCidr(dist.clusterCIDR) : null],
      ['serviceCIDR', isString(dist.serviceCIDR) ? parseCidr(dist.serviceCIDR) : null],
    ] as const;
    const nodeIps = list<any>(ctx.spec.spec?.nodes).flatMap((n) => [n?.address, ...Object.values(n?.extraAddresses ?? {})]).filter(isString);
    allRanges.forEach(({ text, path, range }) => {
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

/** A component's pool must exist (error at `path` otherwise). */
export function reportUnknownPool(ctx: RuleContext, path: PathSegment[], pool: string): void {
  const names = specPools(ctx).map((p) => p.name);
  if (!names.includes(pool)) ctx.report('error', path, `MetalLB has no pool "${pool}"`, { expected: `one of ${names.join(', ') || 'no pool'}`, hint: 'name a pool of spec.components.metallb.pools, or the default pool' });
}

/** An address a component asks MetalLB for must lie in its chosen pool, or in one of the site's pools (error at `path` otherwise). */
export function reportAddressOutsidePools(ctx: RuleContext, path: PathSegment[], ip: string, pool?: string): void {
  const n = parseIpv4(ip);
  const pools = specPools(ctx).filter((p) => pool === undefined || p.name === pool);
  const ranges = pools.flatMap((p) => p.addresses);
  if (n !== null && ranges.length && !poolContaining(n, ranges)) {
    ctx.report('error', path, `${ip} is outside ${pool ? `pool ${pool}` : 'every MetalLB pool'} (${ranges.join(', ')})`, { hint: 'choose an address inside the pool\'s addresses (spec.components.metallb)' });
  }
}
