// Stage between model and render: the site's secret files. Existing encrypted files are kept
// byte for byte while their recipients and keys still match; they are re-wrapped (values kept)
// when the recipients change, and only new secrets get new random values. Nothing here ever
// writes plaintext anywhere: values exist only in memory, encrypted before they leave.
import { EXTRA_RELEASES, extraReleaseSecrets } from '../model/extra-releases.ts';
import { X509Certificate } from 'node:crypto';
import type { SiteModel } from '../model/site.ts';
import type { Release } from '../model/releases.ts';
import { fixed, publishedAnnotation, publishedId, random, type SecretDef } from './types.ts';
import { generateValues } from './values.ts';
import { decryptYaml, inspectSops, rekeyYaml } from '../sops/document.ts';
import { readOwnedFile } from '../write/tree.ts';
import { builtinBackend, type SopsBackend } from '../sops/backend.ts';
import { SopsError } from '../sops/cipher.ts';
import { AGE_KEY_HINT as KEY_HINT } from '../sops/age.ts';
import { UserError } from '../spec/diagnostics.ts';
import { toYaml } from '../render/files.ts';

export const SECRET_MANIFEST_REGEX = '^(data|stringData)$';

export interface SecretInstance {
  readonly def: SecretDef;
  /** Its keys and how their values are made (the def's, or its environment's). */
  readonly data: SecretDef['data'];
  /** The catalog component that declares it. */
  readonly component: string;
  readonly namespace: string;
  readonly environment?: string;
  /** secrets/cluster or secrets/<env>: the directory Flux (or Argo CD) applies as one unit. */
  readonly dir: string;
  /** secrets/…/<name>.sops.yaml: the Secret manifest (Flux applies it, decrypting data/stringData). */
  readonly manifestPath: string;
  /** secrets/…/<name>.values.sops.yaml: whole-file encrypted helm values (helm-secrets), if any. */
  readonly valuesPath?: string;
}

const cache = new WeakMap<SiteModel, SecretInstance[]>();

export function siteSecrets(site: SiteModel): SecretInstance[] {
  const cached = cache.get(site);
  if (cached) return cached;
  // The distribution's own secrets (etcd snapshot upload credentials), then each component's.
  const sources = [
    { name: 'distribution', defs: distributionSecrets(site) },
    ...site.components.map((c) => ({ name: c.name as string, defs: c.module.secrets?.(site, c.settings as never) ?? [] })),
    { name: EXTRA_RELEASES, defs: site.extraReleases.flatMap(extraReleaseSecrets) },
  ];
  const instances = sources.flatMap((c) =>
    c.defs.flatMap((def): SecretInstance[] => {
      const at = (dir: string, sub: string, namespace: string, environment?: string): SecretInstance => ({
        def,
        data: environment !== undefined && def.environmentData ? def.environmentData({ name: environment, namespace }) : def.data,
        component: c.name,
        namespace,
        environment,
        dir,
        manifestPath: `${dir}${sub}/${def.name}.sops.yaml`,
        valuesPath: def.helmValues ? `${dir}${sub}/${def.name}.values.sops.yaml` : undefined,
      });
      if (def.scope === 'environment') return site.environments.map((env) => at(`secrets/${env.name}`, '', env.namespace, env.name));
      const ns = def.namespace ?? 'default';
      return [at('secrets/cluster', `/${ns}`, ns)];
    }),
  );
  cache.set(site, instances);
  return instances;
}

/** The name of the Secret RKE2 reads its etcd snapshot S3 settings from (etcd-s3-config-secret, kube-system). */
export const ETCD_S3_SECRET = 'etcd-s3-config';

/** Secrets of the cluster itself rather than a component: RKE2's S3 target for etcd snapshots. */
function distributionSecrets(site: SiteModel): SecretDef[] {
  const s3 = site.distribution.backup.s3;
  if (!s3 || site.distribution.type !== 'rke2') return [];
  return [
    {
      name: ETCD_S3_SECRET,
      scope: 'cluster',
      namespace: 'kube-system',
      description: 'Where RKE2 uploads etcd snapshots (etcd-s3-config-secret); create the same access key pair on the S3 service',
      data: {
        'etcd-s3-endpoint': fixed(s3.endpoint),
        'etcd-s3-bucket': fixed(s3.bucket),
        'etcd-s3-folder': fixed(s3.folder ?? site.name),
        ...(s3.region ? { 'etcd-s3-region': fixed(s3.region) } : {}),
        'etcd-s3-insecure': fixed(String(s3.insecure)),
        'etcd-s3-access-key': random(20),
        'etcd-s3-secret-key': random(40),
      },
    },
  ];
}

/** Secrets that carry helm values for a release (helm-secrets file, Flux valuesFrom, Argo CD secrets://). */
export function helmValuesSecrets(site: SiteModel, r: Release): SecretInstance[] {
  return siteSecrets(site).filter((s) => s.def.helmValues?.release === r.def.name && (!s.environment || s.environment === r.environment?.name));
}

const VALUES_KEY = 'values.yaml';

function manifestPlain(site: SiteModel, s: SecretInstance, data: Record<string, string>): Record<string, unknown> {
  const stringData: Record<string, string> = { ...data };
  if (s.def.helmValues) stringData[VALUES_KEY] = toYaml(s.def.helmValues.build(data));
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: s.def.name,
      namespace: s.namespace,
      labels: { ...s.def.labels, 'app.kubernetes.io/managed-by': 'siteforge', 'siteforge.io/site': site.name },
      annotations: {
        'siteforge.io/description': s.def.description,
        ...Object.fromEntries((s.def.publish ?? []).map((k) => [publishedAnnotation(k), data[k]!])),
      },
    },
    type: s.def.type ?? 'Opaque',
    stringData,
  };
}

export type SecretAction = 'kept' | 'created' | 'rekeyed' | 'rotated' | 'completed';

export interface ResolvedSecrets {
  /** Output path → encrypted content. */
  readonly files: ReadonlyMap<string, string>;
  /** Secret (namespace/name) → what happened to it in this run. */
  readonly actions: ReadonlyMap<string, SecretAction>;
  /** Public values of secrets (publishedId → value), e.g. the site CA certificate the nodes trust. */
  readonly published: ReadonlyMap<string, string>;
}

export interface ResolveOptions {
  readonly outDir: string;
  readonly identities: readonly string[];
  /** Secret names (or namespace/name) to give new values. */
  readonly rotate?: readonly string[];
  readonly now?: Date;
  readonly backend?: SopsBackend;
}

/** An existing secret file, refused with the choices when it is damaged (so nothing is built on it). */
async function readSecretFile(outDir: string, path: string, s: SecretInstance): Promise<{ text: string; recipients: string[]; stringDataKeys: string[]; annotations: Record<string, string> } | null> {
  const hint = `restore it from git (\`git checkout -- ${path}\`), or give the secret new values with \`siteforge secrets rotate ${s.def.name}\``;
  let text: string | null;
  try {
    text = await readOwnedFile(outDir, path, 'utf8');
  } catch (e) {
    if (e instanceof UserError) throw new UserError(`damaged secret file: ${e.message}`, hint);
    throw e;
  }
  if (text === null) return null;
  const inspected = inspectSops(text);
  if (inspected.problem !== null) throw new UserError(`damaged secret file: ${path} ${inspected.problem}`, hint);
  return { text, recipients: inspected.recipients, stringDataKeys: inspected.stringDataKeys, annotations: inspected.annotations };
}

/** Why a published certificate is unusable (null when it is one PEM CA certificate). */
function certificateProblem(text: string): string | null {
  if (!/^-----BEGIN CERTIFICATE-----\n[A-Za-z0-9+/=\n]+-----END CERTIFICATE-----\n$/.test(text)) return 'is not one PEM certificate';
  try {
    return new X509Certificate(text).ca ? null : 'is not a CA certificate';
  } catch {
    return 'does not parse as an X.509 certificate';
  }
}

const sameSet = (a: readonly string[], b: readonly string[]) => a.length === b.length && [...a].sort().join() === [...b].sort().join();

const idOf = (s: SecretInstance) => `${s.namespace}/${s.def.name}`;

function needKey(what: string, identitiesHint: string): UserError {
  return new UserError(
    `${what} needs an age private key that can decrypt the current files, and none is available`,
    `${identitiesHint} (private keys stay outside the repository)`,
  );
}


export async function resolveSecrets(site: SiteModel, opts: ResolveOptions): Promise<ResolvedSecrets> {
  const files = new Map<string, string>();
  const actions = new Map<string, SecretAction>();
  const published = new Map<string, string>();
  const recipients = site.ageRecipients;
  const rotate = new Set(opts.rotate ?? []);
  const encrypt = (opts.backend ?? builtinBackend).encrypt;
  const instances = siteSecrets(site);
  for (const name of rotate) {
    if (!instances.some((s) => s.def.name === name || idOf(s) === name)) {
      throw new UserError(`no secret named "${name}" in this site`, `secrets of this site: ${instances.map(idOf).join(', ') || 'none'}`);
    }
  }
  for (const s of instances) {
    const paths = [s.manifestPath, ...(s.valuesPath ? [s.valuesPath] : [])];
    const rotating = rotate.has(s.def.name) || rotate.has(idOf(s));
    // A secret being rotated gets new values whatever its files hold, so a damaged one can be replaced.
    const existing = rotating ? paths.map(() => null) : await Promise.all(paths.map((p) => readSecretFile(opts.outDir, p, s)));
    const encryptAll = async (data: Record<string, string>) => {
      for (const k of s.def.publish ?? []) published.set(publishedId(s.namespace, s.def.name, k), data[k]!);
      files.set(s.manifestPath, await encrypt(manifestPlain(site, s, data), { recipients, encryptedRegex: SECRET_MANIFEST_REGEX, lastModified: opts.now }));
      if (s.valuesPath && s.def.helmValues) files.set(s.valuesPath, await encrypt(s.def.helmValues.build(data), { recipients, lastModified: opts.now }));
    };
    if (rotating) {
      await encryptAll(await generateValues(s.data, opts.now));
      actions.set(idOf(s), 'rotated');
      continue;
    }
    const [manifest] = existing;
    if (existing.every((e) => e === null)) {
      await encryptAll(await generateValues(s.data, opts.now));
      actions.set(idOf(s), 'created');
      continue;
    }
    if (manifest === null || manifest === undefined) {
      throw new UserError(
        `${s.manifestPath} is missing while ${s.valuesPath} exists; siteforge will not silently replace the secret`,
        `restore the file from git, or give the secret new values with \`secrets rotate ${s.def.name}\``,
      );
    }
    const expectedKeys = [...Object.keys(s.data), ...(s.def.helmValues ? [VALUES_KEY] : [])];
    // Published values are read from the clear annotations: a file without them is completed (with a key).
    const publishedValues = (s.def.publish ?? []).map((k) => manifest.annotations[publishedAnnotation(k)]);
    const shapeOk = sameSet(manifest.stringDataKeys, expectedKeys) && existing.every((e) => e !== null) && publishedValues.every((v) => typeof v === 'string' && v.length > 0);
    const recipientsOk = existing.every((e) => e !== null && sameSet(e.recipients, recipients));
    if (shapeOk) {
      for (const [i, k] of (s.def.publish ?? []).entries()) {
        const problem = s.data[k]?.kind === 'caCertificate' ? certificateProblem(publishedValues[i]!) : null;
        if (problem) throw new UserError(`damaged secret file: ${s.manifestPath} annotation ${publishedAnnotation(k)} ${problem}`, `restore it from git (\`git checkout -- ${s.manifestPath}\`); the annotation is the public copy of ${k}, covered by the file's MAC`);
        published.set(publishedId(s.namespace, s.def.name, k), publishedValues[i]!);
      }
    }
    if (shapeOk && recipientsOk) {
      paths.forEach((p, i) => files.set(p, existing[i]!.text));
      actions.set(idOf(s), 'kept');
      continue;
    }
    if (!opts.identities.length) {
      throw needKey(
        shapeOk ? `spec.secrets.ageRecipients changed: re-wrapping ${s.manifestPath}` : `${s.manifestPath} lacks keys this siteforge version needs: completing it`,
        KEY_HINT,
      );
    }
    try {
      if (shapeOk) {
        for (const [i, p] of paths.entries()) files.set(p, await rekeyYaml(existing[i]!.text, opts.identities, recipients));
        actions.set(idOf(s), 'rekeyed');
      } else {
        const { plain } = await decryptYaml(manifest.text, opts.identities);
        const old = (plain.stringData ?? {}) as Record<string, string>;
        // Values the file has stay; new ones are made, and what derives from a kept value (htpasswd, an auth file) follows it.
        await encryptAll(await generateValues(s.data, opts.now, old));
        actions.set(idOf(s), 'completed');
      }
    } catch (e) {
      if (e instanceof SopsError) throw new UserError(`${s.manifestPath}: ${e.message}`, KEY_HINT);
      throw e;
    }
  }
  return { files, actions, published };
}
