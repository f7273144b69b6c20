// The steps of a build-factory workflow, one shape for both spellings of spec.workflows[].steps:
// names (today's form: run in order with the workflow image, the name as argument) and objects
// (a DAG: own image, command or script, environment, resources, placement, dependencies).
import type { WorkflowSpec, WorkflowStepSpec } from '../spec/schema.ts';

/** One workflow as one environment runs it: the shared definition with that environment's pin applied. */
export type WorkflowModel = Omit<WorkflowSpec, 'environment' | 'environments' | 'pins'> & {
  readonly environment: string;
  /** Every environment the workflow runs in, in promotion order. */
  readonly environments: readonly string[];
};

/** The environments a workflow runs in: environments, or its one environment. */
export const workflowEnvironments = (w: Pick<WorkflowSpec, 'environment' | 'environments'>): string[] => [...(w.environments ?? (w.environment !== undefined ? [w.environment] : []))];

/** A workflow per environment it runs in, each with its pin (image, parameters over the shared ones, steps) applied. */
export function workflowInstances(w: WorkflowSpec): WorkflowModel[] {
  const environments = workflowEnvironments(w);
  const { environment: _one, environments: _all, pins, ...shared } = w;
  return environments.map((environment) => {
    const pin = pins?.[environment];
    return {
      ...shared,
      environment,
      environments,
      ...(pin?.image !== undefined ? { image: pin.image } : {}),
      ...(pin?.parameters ? { parameters: { ...shared.parameters, ...pin.parameters } } : {}),
      ...(pin?.steps ? { steps: pin.steps } : {}),
    };
  });
}

export interface StepModel {
  readonly name: string;
  readonly image: string;
  readonly command?: readonly string[];
  readonly args?: readonly string[];
  readonly script?: string;
  readonly env: Readonly<Record<string, string>>;
  readonly dependencies: readonly string[];
  readonly resources?: WorkflowStepSpec['resources'];
  readonly nodeSelector: Readonly<Record<string, string>>;
  readonly tolerations: readonly string[];
  /** Volumes mounted (default: every volume of the environment). */
  readonly volumes?: readonly { name: string; readOnly?: boolean }[];
  readonly retries?: number;
}

export interface WorkflowSteps {
  /** false: every step is a name, run one after another (steps); true: a DAG of tasks. */
  readonly dag: boolean;
  readonly steps: readonly StepModel[];
}

/**
 * The steps of a workflow. In a DAG, a step given by name keeps its meaning: it runs with the
 * workflow image and its name as argument, after the step listed before it.
 */
export function workflowSteps(w: Pick<WorkflowSpec, 'image' | 'steps'>): WorkflowSteps {
  const dag = w.steps.some((s) => typeof s !== 'string');
  const steps = w.steps.map((s, i): StepModel => {
    const previous = i > 0 ? stepName(w.steps[i - 1]!) : undefined;
    if (typeof s === 'string') return { name: s, image: w.image, args: [s], env: {}, dependencies: previous ? [previous] : [], nodeSelector: {}, tolerations: [] };
    return {
      name: s.name,
      image: s.image ?? w.image,
      ...(s.command ? { command: s.command } : {}),
      ...(s.script === undefined ? { args: s.args ?? (s.command ? [] : [s.name]) } : {}),
      ...(s.script !== undefined ? { script: s.script } : {}),
      env: s.env ?? {},
      dependencies: s.dependencies ?? [],
      ...(s.resources ? { resources: s.resources } : {}),
      nodeSelector: s.nodeSelector ?? {},
      tolerations: s.tolerations ?? [],
      ...(s.volumes ? { volumes: s.volumes } : {}),
      ...(s.retries !== undefined ? { retries: s.retries } : {}),
    };
  });
  return { dag, steps };
}

/** The volumes a workflow's pods mount: those its steps name, or the environment's for a step that names none (in the environment's order). */
export function workflowVolumeNames(steps: readonly Pick<StepModel, 'volumes'>[], environmentVolumes: readonly { name: string }[]): string[] {
  const used = new Set(steps.flatMap((s) => (s.volumes ?? environmentVolumes).map((v) => v.name)));
  return environmentVolumes.filter((v) => used.has(v.name)).map((v) => v.name);
}

export const stepName = (s: WorkflowSpec['steps'][number]): string => (typeof s === 'string' ? s : s.name);

/** Steps on a dependency cycle (empty when the DAG has none), found by depth-first search. */
export function dependencyCycle(steps: readonly { name: string; dependencies: readonly string[] }[]): string[] {
  const byName = new Map(steps.map((s) => [s.name, s]));
  const state = new Map<string, 'open' | 'done'>();
  const trail: string[] = [];
  const visit = (name: string): string[] => {
    if (state.get(name) === 'done') return [];
    if (state.get(name) === 'open') return [...trail.slice(trail.indexOf(name)), name];
    state.set(name, 'open');
    trail.push(name);
    for (const d of byName.get(name)?.dependencies ?? []) {
      const cycle = byName.has(d) ? visit(d) : [];
      if (cycle.length) return cycle;
    }
    trail.pop();
    state.set(name, 'done');
    return [];
  };
  for (const s of steps) {
    const cycle = visit(s.name);
    if (cycle.length) return cycle;
  }
  return [];
}
