// Where the running siteforge lives: the package root (the directory with its package.json),
// found from this module whether it runs from source (generator/home.ts) or from the bundle
// (dist/siteforge.mjs). Static files are read from the same place in both.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function packageRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'generator', 'assets'))) return dir;
    if (dirname(dir) === dir) throw new Error(`siteforge is installed incompletely: no package root above ${from}`);
  }
}

export const PACKAGE_ROOT = packageRoot(dirname(fileURLToPath(import.meta.url)));
/** Static files shipped with the generator (Ansible roles, document templates, the upstream chart table). */
export const ASSETS_DIR = join(PACKAGE_ROOT, 'generator', 'assets');
export const UPSTREAM_CHARTS_FILE = join(PACKAGE_ROOT, 'generator', 'components', 'upstream-charts.yaml');
export const { name: PACKAGE_NAME, version: PACKAGE_VERSION } = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
};
