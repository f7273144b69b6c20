// The shape of one catalog entry. Every component the generator knows is one module
// implementing this interface; adding a component means adding one module and listing it in
// catalog.ts.
import type { Static, TObject } from '@sinclair/typebox';
import type { GeneratedFile } from '../render/files.ts';
import type { SiteModel } from '../model/site.ts';
import type { RuleContext } from '../spec/rules.ts';

export type ComponentScope = 'cluster' | 'environment';

export interface ComponentModule<S extends TObject = TObject> {
  /** Key under spec.components. */
  readonly name: string;
  /** One line for people: what it is. */
  readonly title: string;
  /** Schema of its spec.components.<name> block (always has `enabled`). */
  readonly settings: S;
  /** cluster: one release for the whole cluster; environment: one release per environment. */
  readonly scope: ComponentScope;
  /** Namespace its cluster-scoped release lives in. */
  readonly namespace: string;
  /** Components that, when enabled, must be deployed before this one (CRDs, storage, ...). */
  readonly dependsOn: readonly string[];
  /** Components that must be enabled for this one to work. */
  readonly requires?: readonly string[];
  /** Cross-field rules of its own, run when it is enabled (settings may still be malformed). */
  readonly check?: (ctx: RuleContext, settings: Partial<Static<S>> | undefined) => void;
  /** Output files for this component, given the resolved site; absent = nothing of its own yet. */
  readonly render?: (site: SiteModel, settings: Static<S>) => GeneratedFile[];
}

/** Identity helper that keeps each module's settings type precise. */
export function defineComponent<S extends TObject>(module: ComponentModule<S>): ComponentModule<S> {
  return module;
}
