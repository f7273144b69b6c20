// Reusable JSON Schema fragments for the value shapes site.yaml uses. Each carries an
// `expected` annotation: the phrase error messages use to say what a valid value looks like.
import { Type, type SchemaOptions } from '@sinclair/typebox';

const octet = '(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])';
export const IPV4_PATTERN = `^(${octet}\\.){3}${octet}$`;
export const CIDR_PATTERN = `^(${octet}\\.){3}${octet}/(3[0-2]|[12]?[0-9])$`;
export const DNS_LABEL_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
export const DNS_NAME_PATTERN = '^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';
export const QUANTITY_PATTERN = '^[0-9]+(\\.[0-9]+)?(m|k|Ki|Mi|Gi|Ti|Pi|Ei|M|G|T|P|E)?$';

export const Ipv4 = (o: SchemaOptions = {}) =>
  Type.String({ pattern: IPV4_PATTERN, expected: 'an IPv4 address such as 10.40.0.11', ...o });

export const Cidr = (o: SchemaOptions = {}) =>
  Type.String({ pattern: CIDR_PATTERN, expected: 'an IPv4 CIDR such as 10.140.0.0/16', ...o });

export const DnsLabel = (o: SchemaOptions = {}) =>
  Type.String({
    pattern: DNS_LABEL_PATTERN,
    maxLength: 63,
    expected: 'a DNS-1123 label: lowercase letters, digits and "-", starting and ending with a letter or digit, at most 63 characters',
    ...o,
  });

export const DnsName = (o: SchemaOptions = {}) =>
  Type.String({
    pattern: DNS_NAME_PATTERN,
    expected: 'a lowercase DNS name such as hpc4.example.edu',
    ...o,
  });

export const Quantity = (o: SchemaOptions = {}) =>
  Type.String({ pattern: QUANTITY_PATTERN, expected: 'a Kubernetes quantity such as 500m, 2, 1100Mi or 10Ti', ...o });

/** `enabled` flag every component block starts with. */
export const Enabled = (byDefault: boolean) =>
  Type.Boolean({ default: byDefault, description: `Deploy this component (default ${byDefault}).` });

/** A string from a fixed set, as a plain JSON Schema `enum` (clear errors, editor completion). */
export const OneOf = <const T extends readonly string[]>(values: T, o: SchemaOptions = {}) =>
  Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...o });

/** Optional override of the pinned upstream chart version (upstream-charts.yaml) for one site. */
export const ChartVersion = () =>
  Type.Optional(
    Type.String({
      pattern: '^v?[0-9]+\\.[0-9]+\\.[0-9]+(-[0-9A-Za-z.-]+)?$',
      expected: 'an exact chart version such as 1.19.2',
      description: 'Pin this component\'s upstream chart to another version than siteforge\'s default.',
    }),
  );
