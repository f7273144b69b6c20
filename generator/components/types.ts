// The shape of one catalog entry. Every component the generator knows is one module
// implementing this interface; adding a component means adding one module and listing it in
// catalog.ts.
import type { Static, TObject } from '@sinclair/typebox';
import type { EnvironmentModel, SiteModel } from '../model/site.ts';
import type { RuleContext } from '../spec/rules.ts';
import type { SecretDef } from '../secrets/types.ts';
import type { UpstreamRef } from './upstream.ts';

export type ComponentScope = 'cluster' | 'environment';

export const RELEASE_LAYERS = ['operators', 'infrastructure', 'apps'] as const;
export type ReleaseLayer = (typeof RELEASE_LAYERS)[number];

export interface ComponentModule<S extends TObject = TObject> {
  /** Key under spec.components. */
  readonly name: string;
  /** One line for people: what it is. */
  readonly title: string;
  /** Schema of its spec.components.<name> block (always has `enabled`). */
  readonly settings: S;
  /** Components that, when enabled, must be deployed before this one (CRDs, storage, ...). */
  readonly dependsOn: readonly string[];
  /** Components that must be enabled for this one to work. */
  readonly requires?: readonly string[];
  /**
   * Why it cannot run on an HPK site (distribution.type: hpk), where there are no nodes of its own,
   * every pod is a Slurm job and every Service is headless; absent: it can.
   */
  readonly notUnderHpk?: string;
  /** Cross-field rules of its own, run when it is enabled (settings may still be malformed). */
  readonly check?: (ctx: RuleContext, settings: Partial<Static<S>> | undefined) => void;
  /** The Secrets it needs, generated and SOPS-encrypted by siteforge. */
  readonly secrets?: (site: SiteModel, settings: Static<S>) => SecretDef[];
  /** What this component deploys: one or more releases, each with its own wrapper chart. */
  readonly releases: (site: SiteModel, settings: Static<S>) => ReleaseDef[];
}

/**
 * One deployable unit: a wrapper chart (charts/<name>) and its release in helmfile, Flux and
 * Argo CD. A release whose resources need CRDs from another release of the same component names
 * it in `after` (helm cannot install custom resources in the release that brings their CRDs).
 */
/** Objects of a release (by group, kind and optionally name) whose fields at these JSON pointers change after install. */
export interface SelfMutation {
  readonly group: string;
  readonly kind: string;
  readonly name?: string;
  readonly paths: readonly string[];
}

/** The CA bundles of a chart's webhook configurations (webhooks 0..count-1 of each), filled in after install. */
export const webhookCaBundles = (kinds: readonly ('ValidatingWebhookConfiguration' | 'MutatingWebhookConfiguration')[], count = 1): SelfMutation[] =>
  kinds.map((kind) => ({ group: 'admissionregistration.k8s.io', kind, paths: Array.from({ length: count }, (_, i) => `/webhooks/${i}/clientConfig/caBundle`) }));

/** A CRD's conversion webhook CA bundle, filled in after install. */
export const conversionCaBundle = (name: string): SelfMutation => ({ group: 'apiextensions.k8s.io', kind: 'CustomResourceDefinition', name, paths: ['/spec/conversion/webhook/clientConfig/caBundle'] });

export interface ReleaseDef {
  /** Release name and chart directory. */
  readonly name: string;
  readonly description: string;
  /**
   * cluster: one release in `namespace`. environment: one release `<name>-<env>` per environment,
   * in the namespace `<env>-<site>`, with values from environments/<env>/<name>.yaml.
   */
  readonly scope: ComponentScope;
  readonly namespace?: string;
  /**
   * Upstream chart the wrapper depends on: a key of upstream-charts.yaml (`version` overrides the
   * pin), or, with `repository`, a chart the spec names (an extra release) at `version`.
   */
  readonly upstream?: UpstreamRef;
  /**
   * GitOps layer: operators (CRD providers and controllers), infrastructure (what builds on them),
   * apps (per-environment workloads). A release is never placed before a layer it depends on.
   */
  readonly layer?: ReleaseLayer;
  /** Other components (when enabled) this release needs, beyond the component's own dependsOn. */
  readonly afterComponents?: readonly string[];
  /**
   * Fields of its objects that its own controllers or jobs fill in after install (webhook CA
   * bundles): Flux drift detection and Argo CD ignore them. verify checks the list is complete.
   */
  readonly selfMutated?: readonly SelfMutation[];
  /** How long one Helm install or upgrade of it may take (default 5m); layer timeouts follow. */
  readonly timeout?: string;
  /** Instead of a chart: a kustomize directory of an upstream repository (upstream-charts.yaml key). */
  readonly kustomization?: string;
  /** values.yaml of the wrapper chart (site-wide). Upstream values go under the alias/chart key. */
  readonly values?: Record<string, unknown>;
  /** JSON Schema of the values the wrapper's own templates read. */
  readonly valuesSchema?: Record<string, unknown>;
  readonly templates?: Readonly<Record<string, string>>;
  /** environment scope: the values for one environment. */
  readonly environmentValues?: (env: EnvironmentModel) => Record<string, unknown>;
  /** Releases of this component deployed before this one. */
  readonly after?: readonly string[];
  /**
   * CRDs (group/Kind) an operator installs at run time when it reconciles this release's objects,
   * rather than the chart: releases using them must come after this one (verify checks it).
   */
  readonly providesCrds?: readonly string[];
  /**
   * Where the upstream chart takes pod tolerations (dotted paths under its values key), each with
   * the chart's own default list at the pinned version, which siteforge keeps when it adds the
   * site's cluster tolerations (spec.placement).
   */
  readonly podTolerations?: Readonly<Record<string, readonly Record<string, string>[]>>;
  /** Container images the release runs, for mirroring into Harbor (image:tag). */
  readonly images?: readonly string[];
}

/** Identity helper that keeps each module's settings type precise. */
export function defineComponent<S extends TObject>(module: ComponentModule<S>): ComponentModule<S> {
  return module;
}
