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

// Kubernetes names (apimachinery validation): a qualified name is an optional DNS-subdomain prefix
// and "/", then a name of at most 63 characters; a label value is empty or such a name.
const K8S_NAME = '[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?';
const DNS_SUBDOMAIN = '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*';
export const QUALIFIED_NAME = `(${DNS_SUBDOMAIN}/)?${K8S_NAME}`;
export const LABEL_VALUE = `(${K8S_NAME})?`;
const TAINT_EFFECT = '(NoSchedule|PreferNoSchedule|NoExecute)';

export const LabelKey = (o: SchemaOptions = {}) =>
  Type.String({
    pattern: `^${QUALIFIED_NAME}$`,
    maxLength: 317,
    expected: 'a Kubernetes label key: an optional DNS prefix and "/", then letters, digits, "-", "_" or "." (at most 63), e.g. hpc/pool',
    ...o,
  });

export const LabelValue = (o: SchemaOptions = {}) =>
  Type.String({
    pattern: `^${LABEL_VALUE}$`,
    maxLength: 63,
    expected: 'a Kubernetes label value: empty, or at most 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit',
    ...o,
  });

export const Taint = (o: SchemaOptions = {}) =>
  Type.String({
    pattern: `^${QUALIFIED_NAME}(=${LABEL_VALUE})?:${TAINT_EFFECT}$`,
    expected: 'a taint key[=value]:Effect with a label key and value, e.g. hpc/pool=gpu:NoSchedule',
    ...o,
  });

/** A Linux account name (useradd's default rules, at most 32 characters). */
export const UserName = (o: SchemaOptions = {}) =>
  Type.String({ pattern: '^[a-z_][a-z0-9_-]{0,31}$', expected: 'a Linux user name such as root or k8sadmin', ...o });

/** A host name or address, as chrony, URLs and DNS take them. */
export const HostName = (o: SchemaOptions = {}) =>
  Type.String({
    pattern: '^[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?(\\.[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?)*$',
    maxLength: 253,
    expected: 'a host name or IPv4 address such as ntp1.example.edu or 10.40.0.1',
    ...o,
  });

/** An absolute path with no "..", spaces, quotes or shell characters. */
export const SafeAbsolutePath = (o: SchemaOptions = {}) =>
  Type.String({
    pattern: '^(/(?!\\.\\.?(/|$))[A-Za-z0-9._+@-]+)+/?$|^/$',
    expected: 'an absolute path of letters, digits and . _ + @ - (no \".\" or \"..\" components, spaces or shell characters), such as /export/software',
    ...o,
  });

/** An http(s) URL without spaces, quotes or shell characters. */
export const HttpUrl = (o: SchemaOptions = {}) =>
  Type.String({
    pattern: "^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~%+/-]*)?$",
    expected: 'an http(s) URL such as https://mirror.example.edu/rke2',
    ...o,
  });

/**
 * An OCI image reference (distribution's reference grammar): [host[:port]/]path[:tag][@digest].
 */
export const IMAGE_REFERENCE_PATTERN =
  '^([a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?(\\.[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)*(:[0-9]+)?/)?' +
  '[a-z0-9]+(([._]|__|-+)[a-z0-9]+)*(/[a-z0-9]+(([._]|__|-+)[a-z0-9]+)*)*' +
  '(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[a-f0-9]{64})?$';

export const ImageReference = (o: SchemaOptions = {}) =>
  Type.String({
    pattern: IMAGE_REFERENCE_PATTERN,
    maxLength: 255,
    expected: 'an image reference such as harbor.hpc4.example.edu/library/spack:0.22.1 (registry/path:tag or @sha256:digest)',
    ...o,
  });

/** A Linux network interface name (at most 15 characters). */
export const InterfaceName = (o: SchemaOptions = {}) =>
  Type.String({ pattern: '^[A-Za-z0-9._-]{1,15}$', expected: 'a network interface name such as ens1f0 or ib0', ...o });

/** A Kubernetes object name (DNS-1123 subdomain), e.g. a StorageClass. */
export const DnsSubdomain = (o: SchemaOptions = {}) =>
  Type.String({ pattern: `^${DNS_SUBDOMAIN}$`, maxLength: 253, expected: 'a Kubernetes object name: lowercase letters, digits, "-" and "."', ...o });

/** Characters a git branch may use here; git's structural rules are checked in rules.ts. */
export const BranchName = (o: SchemaOptions = {}) =>
  Type.String({ pattern: '^[A-Za-z0-9._/-]+$', maxLength: 200, expected: 'a git branch name such as main or sites/hpc4', ...o });

/** Git repository URLs: ssh, https, http or git scheme, or scp-style user@host:path. */
export const GIT_URL_PATTERN =
  '^(ssh|https?|git)://([A-Za-z0-9._-]+@)?[A-Za-z0-9.-]+(:[0-9]{1,5})?/[A-Za-z0-9._~/+-]+$' +
  '|^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[A-Za-z0-9._~][A-Za-z0-9._~/+-]*$';

/** The registry an image reference names (docker.io when it names none), as containerd reads it. */
/** An image reference's name, and its tag and digest where it has them (registry/path:tag@sha256:…). */
export function imagePin(image: string): { name: string; tag?: string; digest?: string } {
  const [name = '', digest] = image.split('@');
  const tag = /:([^/:]+)$/.exec(name)?.[1];
  return { name, ...(tag !== undefined ? { tag } : {}), ...(digest !== undefined ? { digest } : {}) };
}

export function imageRegistry(image: string): string {
  const first = image.split('/')[0]!;
  return image.includes('/') && (/[.:]/.test(first) || first === 'localhost') ? first : 'docker.io';
}

/** An account, partition, QoS or constraint name as Slurm takes it. */
export const SlurmName = (o: SchemaOptions = {}) =>
  Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$', expected: 'a Slurm name of letters, digits, "_", "." and "-", such as m3792, regular or gpu', ...o });

/** A Slurm time limit: minutes, [days-]hours:minutes:seconds and the other forms sbatch --time takes; `unlimited` also takes UNLIMITED. */
export const SlurmTime = ({ unlimited = false, ...o }: SchemaOptions & { unlimited?: boolean } = {}) =>
  Type.String({
    pattern: `^([0-9]{1,4}-[0-9]{1,2}(:[0-9]{2}){0,2}|[0-9]{1,6}(:[0-9]{2}){0,2}${unlimited ? '|UNLIMITED' : ''})$`,
    expected: 'a Slurm time limit such as 30 (minutes), 04:00:00 or 7-00:00:00',
    ...o,
  });

/** A Slurm memory size (sbatch --mem). */
/** A distinguished name (RFC 4514) without the characters that need escaping: attribute=value pairs separated by commas. */
export const DistinguishedName = (o: SchemaOptions = {}) =>
  Type.String({
    pattern: '^[A-Za-z][A-Za-z0-9-]*=[A-Za-z0-9 ._@-]+(,[A-Za-z][A-Za-z0-9-]*=[A-Za-z0-9 ._@-]+)*$',
    maxLength: 500,
    expected: 'a distinguished name such as ou=people,dc=hpc4,dc=example,dc=edu',
    ...o,
  });

/** A group as an OIDC provider names it in the groups claim (no character Casbin, JSON or a YAML reader takes specially). */
export const OidcGroup = (o: SchemaOptions = {}) =>
  Type.String({ pattern: '^[A-Za-z0-9 ._@/-]{1,200}$', expected: 'a group name as the OIDC provider puts it in the groups claim, such as hpc-admins', ...o });

/** A five-field cron schedule (each field's range is checked by rules.ts cronProblem). */
export const CronSchedule = (o: SchemaOptions = {}) =>
  Type.String({ pattern: '^[0-9A-Za-z*/,-]+( +[0-9A-Za-z*/,-]+){4}$', maxLength: 200, expected: 'a five-field cron schedule such as "0 3 * * *"', ...o });

/** A Slurm host list: names, or a prefix with numeric ranges (cn[001-128], gn[01-04,07]), comma-separated. */
export const SLURM_HOSTLIST_PATTERN = '^[a-z0-9][a-z0-9-]*(\\[[0-9]{1,6}(-[0-9]{1,6})?(,[0-9]{1,6}(-[0-9]{1,6})?)*\\][a-z0-9-]*)?(,[a-z0-9][a-z0-9-]*(\\[[0-9]{1,6}(-[0-9]{1,6})?(,[0-9]{1,6}(-[0-9]{1,6})?)*\\][a-z0-9-]*)?)*$';
export const SlurmHostlist = (o: SchemaOptions = {}) =>
  Type.String({ pattern: SLURM_HOSTLIST_PATTERN, maxLength: 1024, expected: 'a Slurm host list such as cn[001-128] or gn[01-04],gn10', ...o });

export const SlurmMemory = (o: SchemaOptions = {}) =>
  Type.String({ pattern: '^[1-9][0-9]{0,6}[KMGT]?$', expected: 'a Slurm memory size such as 16G', ...o });
