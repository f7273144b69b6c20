// `siteforge promote <from> <to>`: the target environment of each workflow that runs in both gets
// the pin of the source environment (or loses its own when the source runs the shared
// definition), so it runs what the source runs. The spec is edited as text: only the target's pin
// changes, every other byte — comments, flow or block style, blank lines — stays as it was. Pure:
// text in, text out.
import { isMap, isPair, isScalar, isSeq, parseDocument, type Document, type Node, type Pair, type YAMLMap } from 'yaml';
import { isDeepStrictEqual } from 'node:util';

export interface Promotion {
  readonly workflow: string;
  /** What changed in the target, in words: "pins image …", "drops its pin". */
  readonly change: string;
}

export interface PromoteResult {
  readonly text: string;
  readonly promoted: readonly Promotion[];
}

export class PromoteError extends Error {
  constructor(
    message: string,
    readonly hint: string,
  ) {
    super(message);
  }
}

type Range = [number, number, number];
const rangeOf = (n: Node | null | undefined): Range => {
  if (!n?.range) throw new Error('internal error: a spec node without a source range');
  return n.range as Range;
};

const pinPair = (pins: YAMLMap | undefined, env: string): Pair<Node, Node> | undefined =>
  pins?.items.find((p): p is Pair<Node, Node> => isPair(p) && isScalar(p.key) && p.key.value === env);

/** Start of the line that holds offset. */
const lineStart = (text: string, offset: number) => text.lastIndexOf('\n', offset - 1) + 1;
/** End of the line that holds offset, past its newline. */
const lineEnd = (text: string, offset: number) => {
  const i = text.indexOf('\n', offset);
  return i < 0 ? text.length : i + 1;
};

/** One workflow's target pin made the source's, as a text edit: 'same' when nothing changes, undefined when a text edit cannot do it. */
function editWorkflow(text: string, workflow: YAMLMap, from: string, to: string): { text?: string; change: string } | 'same' {
  const pinsNode = workflow.get('pins', true) as Node | undefined;
  const pins = isMap(pinsNode) ? pinsNode : undefined;
  const source = pinPair(pins, from);
  const target = pinPair(pins, to);
  const wanted = source?.value ? (source.value as Node).toJSON() : undefined;
  const current = target?.value ? (target.value as Node).toJSON() : undefined;
  if (isDeepStrictEqual(wanted, current)) return 'same';
  const what = (pin: Record<string, unknown> | undefined) => (pin ? Object.keys(pin).sort().join(', ') : 'nothing');
  if (source && target) {
    // Siblings at the same indentation: the source's value text fits where the target's is.
    const [start, end] = rangeOf(target.value as Node);
    const [sStart, sEnd] = rangeOf(source.value as Node);
    return { text: text.slice(0, start) + text.slice(sStart, sEnd) + text.slice(end), change: `pins ${what(wanted)} as ${from} does` };
  }
  if (source && pins) {
    const [sStart, sEnd] = rangeOf(source.value as Node);
    const keyStart = rangeOf(source.key as Node)[0];
    if (pins.flow) {
      return { text: `${text.slice(0, sEnd)}, ${to}: ${text.slice(sStart, sEnd)}${text.slice(sEnd)}`, change: `pins ${what(wanted)} as ${from} does` };
    }
    const indent = text.slice(lineStart(text, keyStart), keyStart);
    const after = lineEnd(text, sEnd - 1);
    // A block collection starts on the line after its key (its lines keep their indentation); anything else follows the key.
    const block = (isMap(source.value) || isSeq(source.value)) && !(source.value as YAMLMap).flow;
    const value = block ? `\n${text.slice(lineStart(text, sStart), sEnd).replace(/\n$/, '')}` : ` ${text.slice(sStart, sEnd).replace(/\n$/, '')}`;
    const entry = `${indent}${to}:${value}\n`;
    return { text: text.slice(0, after) + entry + text.slice(after), change: `pins ${what(wanted)} as ${from} does` };
  }
  if (target && pins && !pins.flow) {
    // The source runs the shared definition: so does the target, once its pin is gone.
    // The last pin goes with its `pins:` key (an empty `pins:` would be null).
    const pinsKey = workflow.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === 'pins')?.key as Node | undefined;
    const keyStart = rangeOf(pins.items.length === 1 && pinsKey ? pinsKey : (target.key as Node))[0];
    const [, end] = rangeOf(target.value as Node);
    return { text: text.slice(0, lineStart(text, keyStart)) + text.slice(lineEnd(text, end - 1)), change: `drops its pin (${what(current)}): runs the shared definition, as ${from} does` };
  }
  return { change: source ? `pins ${what(wanted)} as ${from} does` : `drops its pin (${what(current)}): runs the shared definition, as ${from} does` }; // done by the document API below
}

/** The same promotion through the yaml document API, for the shapes a text edit does not cover. */
function editWithDocument(doc: Document, index: number, from: string, to: string): void {
  const at = ['spec', 'workflows', index, 'pins'];
  const source = doc.getIn([...at, from], true) as Node | undefined;
  if (source) doc.setIn([...at, to], source.clone());
  else if (doc.hasIn([...at, to])) doc.deleteIn([...at, to]);
}

/**
 * Promotes every workflow that runs in both environments (or only `only`): returns the new spec
 * text and what changed. The spec must already be valid.
 */
export function promoteSpec(text: string, from: string, to: string, only?: string): PromoteResult {
  if (from === to) throw new PromoteError(`cannot promote ${from} to itself`, 'name two environments: siteforge promote dev prod');
  const promoted: Promotion[] = [];
  let current = text;
  const workflowsOf = (doc: Document) => {
    const seq = doc.getIn(['spec', 'workflows'], true);
    return isSeq(seq) ? seq.items.filter(isMap) : [];
  };
  const initial = workflowsOf(parseDocument(text));
  const names = initial.map((w) => String(w.get('name')));
  const runsIn = (w: YAMLMap, env: string) => {
    const list = w.get('environments', true);
    return isSeq(list) ? list.items.some((e) => isScalar(e) && e.value === env) : w.get('environment') === env;
  };
  const both = initial.filter((w) => runsIn(w, from) && runsIn(w, to)).map((w) => String(w.get('name')));
  if (only !== undefined && !names.includes(only)) throw new PromoteError(`there is no workflow ${only}`, `workflows: ${names.join(', ') || 'none'}`);
  if (only !== undefined && !both.includes(only)) {
    throw new PromoteError(`workflow ${only} does not run in both ${from} and ${to}`, `give it environments: [${from}, ${to}] to promote it from one to the other`);
  }
  for (const name of only !== undefined ? [only] : both) {
    const doc = parseDocument(current);
    const index = workflowsOf(doc).findIndex((w) => w.get('name') === name);
    const workflow = workflowsOf(doc)[index]!;
    const edit = editWorkflow(current, workflow, from, to);
    if (edit === 'same') continue;
    let next = edit.text;
    if (next !== undefined) {
      // The text edit must say exactly what the document edit would: otherwise use the document.
      const check = parseDocument(next);
      const expected = doc.toJS() as any;
      const pins = (expected.spec.workflows[index].pins ??= {});
      if (pins[from] === undefined) delete pins[to];
      else pins[to] = structuredClone(pins[from]);
      if (!Object.keys(pins).length) delete expected.spec.workflows[index].pins;
      const got = check.toJS() as any;
      const gotWorkflow = got?.spec?.workflows?.[index];
      if (gotWorkflow && 'pins' in gotWorkflow && gotWorkflow.pins && typeof gotWorkflow.pins === 'object' && !Object.keys(gotWorkflow.pins).length) delete gotWorkflow.pins;
      if (check.errors.length || !isDeepStrictEqual(got, expected)) next = undefined;
    }
    if (next === undefined) {
      editWithDocument(doc, index, from, to);
      next = doc.toString({ lineWidth: 0, flowCollectionPadding: false });
    }
    promoted.push({ workflow: name, change: edit.change });
    current = next;
  }
  return { text: current, promoted };
}

