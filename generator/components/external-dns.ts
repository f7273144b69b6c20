// ExternalDNS: DNS records for LoadBalancer services and ingresses, through RFC 2136 dynamic
// updates to the centre's DNS server (BIND, PowerDNS, ...), signed with a TSIG key.
import { Type } from '@sinclair/typebox';
import { ChartVersion, Enabled, HostName, Ipv4 } from '../spec/formats.ts';
import { defineComponent, type ReleaseDef } from './types.ts';
import { random, type SecretDef } from '../secrets/types.ts';

export const EXTERNAL_DNS_TSIG_SECRET = 'external-dns-tsig';

export const externalDns = defineComponent({
  name: 'externalDns',
  title: 'ExternalDNS (RFC 2136 updates to the site DNS server)',
  dependsOn: ['namespaces'],
  notUnderHpk: 'it publishes LoadBalancer and Ingress addresses, and an HPK cluster has neither: every Service is headless',
  settings: Type.Object(
    {
      enabled: Enabled(false),
      chartVersion: ChartVersion(),
      dnsServer: Type.Optional(Ipv4({ description: 'DNS server accepting RFC 2136 updates for spec.domain.' })),
      tsigKeyName: Type.Optional(HostName({ description: 'TSIG key name (default: <site>-external-dns).' })),
    },
    { additionalProperties: false },
  ),
  check(ctx, settings) {
    if (typeof settings?.dnsServer !== 'string') {
      ctx.report('error', ['spec', 'components', 'externalDns'], 'ExternalDNS is enabled but has no dnsServer', {
        expected: 'dnsServer: the address of the DNS server that accepts updates for spec.domain',
        hint: 'add `dnsServer: 10.40.0.2` (for example) or disable externalDns',
      });
    }
  },
  secrets: (): SecretDef[] => [
    {
      name: EXTERNAL_DNS_TSIG_SECRET,
      scope: 'cluster',
      namespace: 'external-dns',
      description: 'TSIG key (HMAC-SHA256) for RFC 2136 updates; configure the same key on the DNS server',
      data: { secret: random(32, 'base64') },
    },
  ],
  releases: (site, settings): ReleaseDef[] => [
    {
      name: 'external-dns',
      description: `DNS records in ${site.domain}`,
      scope: 'cluster',
      namespace: 'external-dns',
      upstream: { chart: 'external-dns' },
      // Where the chart takes pod tolerations, with its defaults at the pin (kept beside spec.placement's).
      podTolerations: {
        'tolerations': [],
      },
      values: {
        'external-dns': {
          provider: { name: 'rfc2136' },
          sources: ['service', 'ingress'],
          domainFilters: [site.domain],
          txtOwnerId: site.name,
          policy: 'upsert-only',
          env: [
            {
              name: 'EXTERNAL_DNS_RFC2136_TSIG_SECRET',
              valueFrom: { secretKeyRef: { name: EXTERNAL_DNS_TSIG_SECRET, key: 'secret' } },
            },
          ],
          extraArgs: [
            `--rfc2136-host=${settings.dnsServer ?? ''}`,
            '--rfc2136-port=53',
            `--rfc2136-zone=${site.domain}`,
            `--rfc2136-tsig-keyname=${settings.tsigKeyName ?? `${site.name}-external-dns`}`,
            '--rfc2136-tsig-secret-alg=hmac-sha256',
            '--rfc2136-tsig-axfr',
          ],
        },
      },
    },
  ],
});
