// What a component needs kept secret: Kubernetes Secrets (and, where a chart insists on a value,
// helm values) whose contents siteforge generates once, encrypts with SOPS and never regenerates
// unless told to rotate them.

export type SecretValueSpec =
  /**
   * Cryptographically random: `length` characters of the charset (base64: `length` random bytes,
   * encoded; mixed: letters and digits with at least one upper-case letter, one lower-case letter
   * and one digit, as Harbor asks of a robot secret).
   */
  | { readonly kind: 'random'; readonly length: number; readonly charset: 'alnum' | 'mixed' | 'hex' | 'base64' }
  /** Not secret by itself but belongs with the others (a user name, a client id). */
  | { readonly kind: 'fixed'; readonly value: string }
  /** An htpasswd line `user:<bcrypt>` for the password held under another key of the same secret. */
  | { readonly kind: 'htpasswd'; readonly user: string; readonly passwordKey: string }
  /** A registry client's auth file (`.dockerconfigjson`) for `user` with the password held under another key of the same secret. */
  | { readonly kind: 'dockerConfig'; readonly registry: string; readonly user: string; readonly passwordKey: string }
  /** A certificate authority's private key (ECDSA P-256, PKCS#8 PEM). */
  | { readonly kind: 'caKey' }
  /** The self-signed CA certificate (PEM) of the key held under another key of the same secret. */
  | { readonly kind: 'caCertificate'; readonly keyKey: string; readonly commonName: string; readonly years: number };

export interface SecretDef {
  /** Secret name, unique within its namespace. */
  readonly name: string;
  /** cluster: one Secret in `namespace`; environment: one per environment namespace. */
  readonly scope: 'cluster' | 'environment';
  readonly namespace?: string;
  readonly description: string;
  /** stringData keys and how their values are made, in the order they are written. */
  readonly data: Readonly<Record<string, SecretValueSpec>>;
  /** With scope environment: the keys for one environment, where they differ between environments (instead of data). */
  readonly environmentData?: (env: { readonly name: string; readonly namespace: string }) => Readonly<Record<string, SecretValueSpec>>;
  /**
   * For values a chart only takes as helm values: the release that needs them and the values,
   * built from this secret's data. They are written as a helm-secrets values file (helmfile) and
   * as a `values.yaml` key of the Secret (Flux `valuesFrom`).
   */
  readonly helmValues?: { readonly release: string; readonly build: (data: Readonly<Record<string, string>>) => Record<string, unknown> };
  /** Kubernetes Secret type (default Opaque). */
  readonly type?: string;
  /** Labels of its own (the consumer looks Secrets up by them), beside siteforge's. */
  readonly labels?: Readonly<Record<string, string>>;
  /**
   * Keys whose values are public (a CA certificate): copied in clear into the manifest's
   * annotations (covered by the SOPS MAC), so renderers use them without a private key.
   */
  readonly publish?: readonly string[];
}

export const random = (length: number, charset: 'alnum' | 'mixed' | 'hex' | 'base64' = 'alnum'): SecretValueSpec => ({ kind: 'random', length, charset });
export const fixed = (value: string): SecretValueSpec => ({ kind: 'fixed', value });
/**
 * A value the admin sets with sops (a password another system issued, a key the cluster already
 * has): it says which file to open and which key to set (`how`: anything more to know).
 */
export const sopsPlaceholder = (namespace: string, secret: string, key: string, how = ''): SecretValueSpec =>
  fixed(`REPLACE-ME: sops ${clusterSecretPath(namespace, secret)}, then set ${key}${how}`);

/** Where a cluster-scoped secret's SOPS file is in the repository. */
export const clusterSecretPath = (namespace: string, name: string) => `secrets/cluster/${namespace}/${name}.sops.yaml`;
export const dockerConfig = (registry: string, user: string, passwordKey: string): SecretValueSpec => ({ kind: 'dockerConfig', registry, user, passwordKey });
export const caKey = (): SecretValueSpec => ({ kind: 'caKey' });
export const caCertificate = (keyKey: string, commonName: string, years = 10): SecretValueSpec => ({ kind: 'caCertificate', keyKey, commonName, years });

/** The Secret holding the cluster's age key, made at bootstrap (never in the repository): Flux and Argo CD decrypt with it. */
export const SOPS_AGE_SECRET = 'sops-age';
/** Its key: the age identity file. */
export const SOPS_AGE_KEY = 'age.agekey';

/** The clear annotation that carries a published (public) key of a secret, e.g. a CA certificate. */
export const publishedAnnotation = (key: string) => `siteforge.io/public.${key}`;

/** Where ResolvedSecrets.published holds a secret's public value. */
export const publishedId = (namespace: string, name: string, key: string) => `${namespace}/${name}/${key}`;
