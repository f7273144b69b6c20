// Static files shipped with the generator (Ansible roles, document templates). Read once per
// process; renderers treat them as constants.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import Handlebars from 'handlebars';

import { ASSETS_DIR, PACKAGE_ROOT } from '../home.ts';
export { ASSETS_DIR };

const trees = new Map<string, { path: string; content: string }[]>();

/** Every file under assets/<dir>, as paths relative to that directory, sorted. */
export function assetTree(dir: string): readonly { path: string; content: string }[] {
  let tree = trees.get(dir);
  if (!tree) {
    const root = join(ASSETS_DIR, dir);
    tree = (readdirSync(root, { recursive: true, withFileTypes: true }) as import('node:fs').Dirent[])
      .filter((e) => e.isFile())
      .map((e) => {
        const full = join(e.parentPath ?? (e as unknown as { path: string }).path, e.name);
        return { path: relative(root, full).split('\\').join('/'), content: readFileSync(full, 'utf8') };
      })
      .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    trees.set(dir, tree);
  }
  return tree;
}

const templates = new Map<string, Handlebars.TemplateDelegate>();

/** How every document template is compiled (the build precompiles with the same options). */
export const TEMPLATE_OPTIONS = { noEscape: true, strict: true } as const;

/** Set (by scripts/build.mjs) only in the bundled command: templates are precompiled beside it. */
declare const SITEFORGE_BUNDLED: boolean | undefined;

/** Precompiled template specs (dist/templates.json, written by the build), keyed by name. */
let precompiled: Record<string, string> | null | undefined;
function precompiledSpec(name: string): string | undefined {
  if (typeof SITEFORGE_BUNDLED === 'undefined') return undefined;
  if (precompiled === undefined) {
    try {
      precompiled = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'dist', 'templates.json'), 'utf8')) as Record<string, string>;
    } catch {
      precompiled = null;
    }
  }
  return precompiled?.[name];
}

/** Renders assets/docs/<name>.hbs with Handlebars (prose and scripts only; never YAML). */
export function renderDoc(name: string, context: object): string {
  let template = templates.get(name);
  if (!template) {
    const hbs = Handlebars.create();
    hbs.registerHelper('join', (list: unknown[], sep: unknown) => (Array.isArray(list) ? list.join(typeof sep === 'string' ? sep : ', ') : ''));
    const spec = precompiledSpec(name);
    // A precompiled spec is JavaScript the build wrote from our own template: no parsing at run time.
    template = spec
      ? hbs.template(new Function(`return ${spec}`)() as TemplateSpecification)
      : hbs.compile(readFileSync(join(ASSETS_DIR, 'docs', `${name}.hbs`), 'utf8'), TEMPLATE_OPTIONS);
    templates.set(name, template);
  }
  return template(context);
}

type TemplateSpecification = Parameters<typeof Handlebars.template>[0];
