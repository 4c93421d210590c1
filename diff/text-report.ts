import type { AttributeChange } from './object-diff';
import type { RelatedRef } from './relationship-diff';
import type { ObjectRef, TypeDiff } from './snapshot-diff';

export interface SnapshotLabel {
  id: string;
  startedAt: string;
}

const name = (o: ObjectRef) => `${o.displayName ?? '(no name)'} (${o.id})`;
const related = (r: RelatedRef) => `${r.displayName ?? '(unknown)'} (${r.type ?? 'object'} ${r.id})`;
const show = (v: unknown) => (v === undefined ? '(not set)' : JSON.stringify(v));

function attribute(c: AttributeChange): string {
  if (c.kind === 'value') return `${c.path}: ${show(c.old)} -> ${show(c.new)}`;
  const parts = [...c.added.map((v) => `+ ${JSON.stringify(v)}`), ...c.removed.map((v) => `- ${JSON.stringify(v)}`)];
  return `${c.path} (set): ${parts.join(', ')}`;
}

/** Totals over every type of a diff. */
export function diffSummary(types: readonly TypeDiff[]) {
  const sum = (f: (t: TypeDiff) => number) => types.reduce((n, t) => n + f(t), 0);
  return {
    added: sum((t) => t.added.length),
    removed: sum((t) => t.removed.length),
    softDeleted: sum((t) => t.removed.filter((r) => r.deletion === 'soft').length),
    hardDeleted: sum((t) => t.removed.filter((r) => r.deletion === 'hard').length),
    restored: sum((t) => t.restored.length),
    changed: sum((t) => t.changed.length),
    typesNotCompared: types.filter((t) => !t.comparable).map((t) => t.type),
  };
}

/** A diff as plain text an operator reads top to bottom: one block per type with changes, one line per change. */
export function diffText(from: SnapshotLabel, to: SnapshotLabel, types: readonly TypeDiff[]): string {
  const s = diffSummary(types);
  const lines = [
    'Difference between two backups',
    `  from  ${from.startedAt}  snapshot ${from.id}`,
    `  to    ${to.startedAt}  snapshot ${to.id}`,
    '',
    `${s.added} added, ${s.removed} removed (${s.softDeleted} to the recycle bin, ${s.hardDeleted} for good), ` +
      `${s.restored} restored, ${s.changed} changed`,
  ];
  let unchanged = 0;
  for (const t of types) {
    if (!t.comparable) {
      lines.push('', `${t.type}: not compared, ${t.reason}`);
      continue;
    }
    if (t.added.length + t.removed.length + t.restored.length + t.changed.length === 0) {
      unchanged++;
      continue;
    }
    lines.push('', t.type);
    for (const o of t.added) lines.push(`  + added     ${name(o)}`);
    for (const o of t.removed) {
      lines.push(`  - removed   ${name(o)} ${o.deletion === 'soft' ? '[in the recycle bin]' : '[deleted for good]'}`);
    }
    for (const o of t.restored) lines.push(`  ^ restored  ${name(o)} [from the recycle bin]`);
    for (const o of t.changed) {
      lines.push(`  ~ changed   ${name(o)}`);
      for (const c of o.attributes) lines.push(`      ${attribute(c)}`);
      for (const r of o.relationships) {
        for (const item of r.added) lines.push(`      ${r.relationship}: + ${related(item)}`);
        for (const item of r.removed) lines.push(`      ${r.relationship}: - ${related(item)}`);
        for (const item of r.changed) lines.push(`      ${r.relationship}: ~ ${related(item)}`);
      }
    }
  }
  if (unchanged > 0) lines.push('', `${unchanged} other type${unchanged === 1 ? '' : 's'} unchanged`);
  return `${lines.join('\n')}\n`;
}
