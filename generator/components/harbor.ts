// Harbor: the site's container registry and pull-through cache.
import { Type } from '@sinclair/typebox';
import { DnsName, Enabled, Quantity } from '../spec/formats.ts';
import { defineComponent } from './types.ts';
import type { SiteModel } from '../model/site.ts';

export const harbor = defineComponent({
  name: 'harbor',
  title: 'Harbor container registry',
  scope: 'cluster',
  namespace: 'harbor',
  dependsOn: ['namespaces', 'metallb', 'ingressNginx', 'certManager'],
  settings: Type.Object(
    {
      enabled: Enabled(false),
      hostname: Type.Optional(DnsName({ description: 'Registry host name (default harbor.<domain>).' })),
      storageClass: Type.Optional(Type.String({ description: 'StorageClass for registry and database volumes.' })),
      registrySize: Quantity({ default: '500Gi' }),
    },
    { additionalProperties: false },
  ),
});

/** The registry host name: the spec's, or harbor.<domain>. */
export function harborHostname(site: SiteModel): string {
  return site.componentSettings.harbor.hostname ?? `harbor.${site.domain}`;
}
