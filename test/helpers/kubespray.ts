// Kubespray sites for the tests: the stand-in collection (test/fixtures/kubespray) Ansible finds
// instead of Kubespray, the example site built with Kubespray, and the variables Kubespray reads.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ROOT, siteforge, tempDir } from './cli.ts';

/** The stand-in collection first, then where Debian's ansible keeps its own. */
export const KUBESPRAY_STANDIN = join(ROOT, 'test/fixtures/kubespray');
export const kubesprayEnv = { ANSIBLE_COLLECTIONS_PATH: `${KUBESPRAY_STANDIN}:/usr/share/ansible/collections`, ANSIBLE_NOCOLOR: '1' };

/** The example site built with Kubespray instead of RKE2 (it has Harbor, GPUs and kubelet NUMA settings), generated. */
export async function hpc4OnKubespray(): Promise<string> {
  const dir = await tempDir();
  const text = (await readFile(join(ROOT, 'site.yaml'), 'utf8')).replace('    type: rke2\n    version: v1.31.4+rke2r1\n', '    type: kubespray\n    version: v1.35.2\n    cni: multus,cilium\n');
  await writeFile(join(dir, 'site.yaml'), text);
  const res = await siteforge(['generate', join(dir, 'site.yaml'), '--no-commit']);
  if (res.code !== 0) throw new Error(res.stderr);
  return dir;
}

/** The variables Kubespray reads, beside the inventory. */
export const kubesprayVars = async (out: string) => parse(await readFile(join(out, 'ansible/inventory/group_vars/k8s_cluster.yml'), 'utf8'));
