/**
 * File names inside an export zip: `<type>/<display name>__<id>.json`, safe on Windows, macOS and Linux, and never
 * two alike. The id makes a name unique within its type; it is escaped injectively (every character outside
 * `[a-z0-9-]` becomes `%XX` of its UTF-8 bytes, `%` included), so two ids never give one name, not even on a
 * case-insensitive file system. The display name is only decoration and may be shortened or replaced freely.
 */

/** Characters Windows refuses in names, control characters, and those `sha256sum -c` lines cannot hold as-is. */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[<>:"/\\|?*\u0000-\u001f\u007f-\u009f]/g;
const MAX_NAME_BYTES = 80;

function escapeId(id: string): string {
  let out = '';
  for (const ch of id) {
    if (/^[a-z0-9-]$/.test(ch)) out += ch;
    else for (const byte of Buffer.from(ch, 'utf8')) out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** A display name made safe: unsafe characters become `_`, length capped in UTF-8 bytes, no trailing dot or space. */
export function safeDisplayName(name: string | null | undefined): string {
  let safe = (name ?? '').normalize('NFC').replace(UNSAFE, '_').replace(/\s+/g, ' ').trim();
  // Cut at a whole code point within the byte budget.
  while (Buffer.byteLength(safe, 'utf8') > MAX_NAME_BYTES) safe = [...safe].slice(0, -1).join('');
  safe = safe.replace(/[. ]+$/, '').replace(/^[. ]+/, '');
  return safe === '' ? 'unnamed' : safe;
}

/** `<type>/[recycle-bin/]<display name>__<id>` (without extension). */
export function objectEntryBase(type: string, id: string, displayName: string | null, inRecycleBin: boolean): string {
  return `${type}/${inRecycleBin ? 'recycle-bin/' : ''}${safeDisplayName(displayName)}__${escapeId(id)}`;
}

export function objectEntryName(type: string, id: string, displayName: string | null, inRecycleBin: boolean): string {
  return `${objectEntryBase(type, id, displayName, inRecycleBin)}.json`;
}

/** A relationship list beside its object: `<object base>.<relationship>.json`. */
export function relationshipEntryName(
  type: string,
  id: string,
  displayName: string | null,
  inRecycleBin: boolean,
  relationship: string,
): string {
  return `${objectEntryBase(type, id, displayName, inRecycleBin)}.${relationship}.json`;
}
