// What a component needs kept secret: Kubernetes Secrets (and, where a chart insists on a value,
// helm values) whose contents siteforge generates once, encrypts with SOPS and never regenerates
// unless told to rotate them.

export type SecretValueSpec =
  /** Cryptographically random: `length` characters of the charset (base64: `length` random bytes, encoded). */
  | { readonly kind: 'random'; readonly length: number; readonly charset: 'alnum' | 'hex' | 'base64' }
  /** Not secret by itself but belongs with the others (a user name, a client id). */
  | { readonly kind: 'fixed'; readonly value: string }
  /** An htpasswd line `user:<bcrypt>` for the password held under another key of the same secret. */
  | { readonly kind: 'htpasswd'; readonly user: string; readonly passwordKey: string };

export interface SecretDef {
  /** Secret name, unique within its namespace. */
  readonly name: string;
  /** cluster: one Secret in `namespace`; environment: one per environment namespace. */
  readonly scope: 'cluster' | 'environment';
  readonly namespace?: string;
  readonly description: string;
  /** stringData keys and how their values are made, in the order they are written. */
  readonly data: Readonly<Record<string, SecretValueSpec>>;
  /**
   * For values a chart only takes as helm values: the release that needs them and the values,
   * built from this secret's data. They are written as a helm-secrets values file (helmfile) and
   * as a `values.yaml` key of the Secret (Flux `valuesFrom`).
   */
  readonly helmValues?: { readonly release: string; readonly build: (data: Readonly<Record<string, string>>) => Record<string, unknown> };
}

export const random = (length: number, charset: 'alnum' | 'hex' | 'base64' = 'alnum'): SecretValueSpec => ({ kind: 'random', length, charset });
export const fixed = (value: string): SecretValueSpec => ({ kind: 'fixed', value });
