// plan --markdown: the plan as a pull-request comment — what changes in words, the releases that
// will upgrade, the files by output family, and anything generate would refuse. Pure text.
import type { WritePlan } from '../write/writer.ts';
import { describeConflict } from '../write/writer.ts';
import { familyOf, UPGRADE_REASON, upgradeWhere, type SummaryChange } from './summary.ts';

/** Marks the comment so CI updates it in place instead of adding one per push. */
export const PLAN_COMMENT_MARKER = '<!-- siteforge-plan -->';

export function planMarkdown(site: string, plan: WritePlan, change: readonly string[], data: SummaryChange): string {
  const counts = `${plan.added.length} added, ${plan.changed.length} changed, ${plan.removed.length} removed${plan.conflicts.length ? `, ${plan.conflicts.length} refused` : ''}`;
  const lines = [PLAN_COMMENT_MARKER, `## siteforge plan: ${site}`, '', `**${counts}** (generated files; the manifest is not counted)`, '', '### What changes', ''];
  lines.push(...(change.length ? change.map((l) => (l.startsWith('  ') ? `  ${l.trim()}` : `- ${l}`)) : ['Nothing a reviewer would name: no node, component, chart, distribution or secret change.']));
  lines.push('', '### Releases that upgrade', '');
  lines.push(
    ...(data.releaseUpgrades.length
      ? ['| release | environment | why |', '| --- | --- | --- |', ...data.releaseUpgrades.map((u) => `| \`${u.release}\` | ${upgradeWhere(u, data.environments)} | ${UPGRADE_REASON[u.why]} |`)]
      : ['None: no chart version or environment values change, so nothing rolls.']),
  );
  const families = new Map<string, string[]>();
  const add = (mark: string, path: string) => families.set(familyOf(path), [...(families.get(familyOf(path)) ?? []), `${mark} ${path}`]);
  plan.added.forEach((f) => add('+', f.path));
  plan.changed.forEach((f) => add('~', f.path));
  plan.removed.forEach((p) => add('-', p));
  lines.push('', '### Files', '');
  if (!families.size) lines.push('No file changes.');
  for (const [family, entries] of [...families].sort(([a], [b]) => a.localeCompare(b))) {
    lines.push(`<details><summary>${family} (${entries.length})</summary>`, '', '```diff', ...entries.sort((a, b) => a.slice(2).localeCompare(b.slice(2))), '```', '</details>', '');
  }
  if (plan.conflicts.length) {
    lines.push('### Refused', '', 'generate would stop on these files (not siteforge\'s to change):', '', ...plan.conflicts.map((c) => `- ${describeConflict(c)}`), '');
  }
  return `${lines.join('\n').trimEnd()}\n`;
}
