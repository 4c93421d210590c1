import { canonicalBytes } from '../../storage/canonical-json';
import { searchKeysOf } from '../../storage/manifest';
import { storedForm } from '../../storage/stored-form';

/** What the storing needs to know of an item besides its stored form. */
export interface DigestSpec {
  idProperty: string;
  displayNameProperty?: string | null;
  /** The type's search properties (catalog `searchProperties`): their values become the entry's search keys. */
  searchProperties?: readonly string[];
}

export interface PageLinks {
  nextLink?: string;
  deltaLink?: string;
}

/** How an item of a delta round was removed ('@removed'), or 0 when it is present. */
export const PRESENT = 0;
/** '@removed' with reason "changed": in the recycle bin, restorable (delta-query-overview). */
export const SOFT_DELETED = 1;
/** Any other '@removed': gone for good. */
export const HARD_DELETED = 2;

/**
 * The items of one Graph page in the form the storing takes: for each item with an id, its name, whether it was
 * removed, and the canonical JSON of its stored form (all of them in one buffer, so a page crosses from a worker
 * thread to the storing as a few transferable arrays instead of a thousand objects). The content hash is the
 * storage's own business: the type writer computes it from these bytes.
 */
export interface DigestedItems {
  ids: string[];
  names: (string | null)[];
  /** Item i's search keys (`searchKeysOf`), or null. */
  search: (string[] | null)[];
  removed: Uint8Array;
  /** Item i's canonical JSON is bytes[offsets[i], offsets[i + 1]). */
  offsets: Uint32Array;
  bytes: Uint8Array;
}

/** A page's JSON body: its links and its items. A body without a `value` array is not a collection page. */
export function parsePage(body: Uint8Array): { links: PageLinks; items: unknown[] } {
  const page = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8')) as Record<
    string,
    unknown
  >;
  if (!page || typeof page !== 'object' || !Array.isArray(page.value)) {
    throw new Error('the Graph answer is not a page of a collection (no value array)');
  }
  const links: PageLinks = {};
  if (typeof page['@odata.nextLink'] === 'string') links.nextLink = page['@odata.nextLink'];
  if (typeof page['@odata.deltaLink'] === 'string') links.deltaLink = page['@odata.deltaLink'];
  return { links, items: page.value as unknown[] };
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;

/**
 * The links of a page without parsing its items, so the next page of a sequential listing is asked for as soon as the
 * page is in. Graph writes a page as `{"@odata.context":…,"@odata.nextLink":…,"value":[…]}`, some members possibly
 * after `value`: the members before `value` are read forwards and the ones after it backwards from the end, which
 * touches a few hundred bytes of a 1.4 MB page of users. Anything else (a member that is an object, say) falls back to
 * walking the whole body (`scanAllLinks`). Undefined when the body is not such an object; parsePage then says why.
 */
export function scanPageLinks(body: Uint8Array): PageLinks | undefined {
  const links: PageLinks = {};
  let i = skipSpace(body, 0);
  if (body[i] !== 0x7b) return undefined;
  i = skipSpace(body, i + 1);
  for (;;) {
    if (body[i] !== QUOTE) return scanAllLinks(body);
    const keyEnd = endOfString(body, i);
    if (keyEnd < 0) return undefined;
    const key = latin1(body, i + 1, keyEnd);
    i = skipSpace(body, keyEnd + 1);
    if (body[i] !== COLON) return undefined;
    i = skipSpace(body, i + 1);
    if (key === 'value') break;
    if (body[i] !== QUOTE) return scanAllLinks(body);
    const valueEnd = endOfString(body, i);
    if (valueEnd < 0) return undefined;
    noteLink(links, key, body, i, valueEnd);
    i = skipSpace(body, valueEnd + 1);
    if (body[i] !== COMMA) return scanAllLinks(body);
    i = skipSpace(body, i + 1);
  }
  if (body[i] !== 0x5b) return scanAllLinks(body);
  // Backwards from the closing brace: `,"key":"string"` members until the bracket that closes `value`.
  let j = lastNonSpace(body, body.length - 1);
  if (body[j] !== 0x7d) return undefined;
  j = lastNonSpace(body, j - 1);
  while (body[j] !== 0x5d) {
    if (body[j] !== QUOTE) return scanAllLinks(body);
    const valueStart = startOfString(body, j);
    if (valueStart <= i) return scanAllLinks(body);
    const colon = lastNonSpace(body, valueStart - 1);
    if (body[colon] !== COLON) return scanAllLinks(body);
    const keyClose = lastNonSpace(body, colon - 1);
    if (body[keyClose] !== QUOTE) return scanAllLinks(body);
    const keyStart = startOfString(body, keyClose);
    if (keyStart <= i) return scanAllLinks(body);
    noteLink(links, latin1(body, keyStart + 1, keyClose), body, valueStart, j);
    const comma = lastNonSpace(body, keyStart - 1);
    if (body[comma] !== COMMA) return scanAllLinks(body);
    j = lastNonSpace(body, comma - 1);
  }
  return links;
}

function noteLink(links: PageLinks, key: string, body: Uint8Array, start: number, end: number): void {
  if (key !== '@odata.nextLink' && key !== '@odata.deltaLink') return;
  const text = Buffer.from(body.buffer, body.byteOffset + start, end + 1 - start).toString('utf8');
  links[key === '@odata.nextLink' ? 'nextLink' : 'deltaLink'] = JSON.parse(text) as string;
}

function latin1(body: Uint8Array, start: number, end: number): string {
  return Buffer.from(body.buffer, body.byteOffset + start, end - start).toString('latin1');
}

function lastNonSpace(body: Uint8Array, j: number): number {
  while (j >= 0 && (body[j] === 0x20 || body[j] === 0x0a || body[j] === 0x0d || body[j] === 0x09)) j--;
  return j;
}

/**
 * Index of the quote that opens the string whose closing quote is at `end` (a quote after an even run of backslashes).
 */
function startOfString(body: Uint8Array, end: number): number {
  for (let j = end - 1; j >= 0; j--) {
    if (body[j] !== QUOTE) continue;
    let backslashes = 0;
    while (j - 1 - backslashes >= 0 && body[j - 1 - backslashes] === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return j;
  }
  return -1;
}

/** scanPageLinks by walking every byte of the top level: any member order, any member values. */
export function scanAllLinks(body: Uint8Array): PageLinks | undefined {
  const n = body.length;
  let i = skipSpace(body, 0);
  if (body[i] !== 0x7b) return undefined;
  i = skipSpace(body, i + 1);
  const links: PageLinks = {};
  if (body[i] === 0x7d) return links;
  for (;;) {
    if (body[i] !== QUOTE) return undefined;
    const keyEnd = endOfString(body, i);
    if (keyEnd < 0) return undefined;
    const key = Buffer.from(body.buffer, body.byteOffset + i + 1, keyEnd - i - 1).toString('latin1');
    i = skipSpace(body, keyEnd + 1);
    if (body[i] !== COLON) return undefined;
    i = skipSpace(body, i + 1);
    const valueStart = i;
    if (body[i] === QUOTE) {
      const valueEnd = endOfString(body, i);
      if (valueEnd < 0) return undefined;
      if (key === '@odata.nextLink' || key === '@odata.deltaLink') {
        const text = Buffer.from(body.buffer, body.byteOffset + valueStart, valueEnd + 1 - valueStart).toString('utf8');
        links[key === '@odata.nextLink' ? 'nextLink' : 'deltaLink'] = JSON.parse(text) as string;
      }
      i = valueEnd + 1;
    } else {
      let depth = 0;
      for (; i < n; i++) {
        const c = body[i];
        if (c === QUOTE) {
          i = endOfString(body, i);
          if (i < 0) return undefined;
        } else if (c === 0x7b || c === 0x5b) depth++;
        else if (c === 0x7d || c === 0x5d) {
          if (depth === 0) break;
          depth--;
          if (depth === 0) {
            i++;
            break;
          }
        } else if (depth === 0 && c === COMMA) break;
      }
    }
    i = skipSpace(body, i);
    if (body[i] === COMMA) i = skipSpace(body, i + 1);
    else if (body[i] === 0x7d) return links;
    else return undefined;
  }
}

function skipSpace(body: Uint8Array, i: number): number {
  while (i < body.length && (body[i] === 0x20 || body[i] === 0x0a || body[i] === 0x0d || body[i] === 0x09)) i++;
  return i;
}

/** Index of the quote that closes the string opening at `start`, or -1. */
function endOfString(body: Uint8Array, start: number): number {
  for (let i = start + 1; i < body.length; i++) {
    const c = body[i];
    if (c === BACKSLASH) i++;
    else if (c === QUOTE) return i;
  }
  return -1;
}

/** Stored forms and canonical bytes of a page's items, in page order; items without a string id are skipped. */
export function digestItems(items: readonly unknown[], spec: DigestSpec): DigestedItems {
  const builder = new DigestBuilder(spec);
  for (const item of items) builder.add(item);
  return builder.result();
}

/** digestItems one item at a time, so a thread can answer other messages between slices of a page. */
export class DigestBuilder {
  private readonly ids: string[] = [];
  private readonly names: (string | null)[] = [];
  private readonly search: (string[] | null)[] = [];
  private readonly removed: number[] = [];
  private readonly parts: Buffer[] = [];
  private readonly ends: number[] = [];
  private size = 0;

  constructor(private readonly spec: DigestSpec) {}

  add(raw: unknown): void {
    if (!raw || typeof raw !== 'object') return;
    const item = raw as Record<string, unknown>;
    const id = item[this.spec.idProperty];
    if (typeof id !== 'string') return;
    this.ids.push(id);
    const name = this.spec.displayNameProperty ? item[this.spec.displayNameProperty] : undefined;
    this.names.push(typeof name === 'string' ? name : null);
    this.search.push(searchKeysOf(this.spec.searchProperties ?? [], item) ?? null);
    const gone = item['@removed'] as { reason?: string } | undefined;
    if (gone) {
      this.removed.push(gone.reason === 'changed' ? SOFT_DELETED : HARD_DELETED);
    } else {
      const bytes = canonicalBytes(storedForm(item));
      this.removed.push(PRESENT);
      this.parts.push(bytes);
      this.size += bytes.length;
    }
    this.ends.push(this.size);
  }

  result(): DigestedItems {
    const offsets = new Uint32Array(this.ids.length + 1);
    offsets.set(this.ends, 1);
    // Its own ArrayBuffer (never a slice of Buffer's shared pool), so it can be transferred.
    const bytes = new Uint8Array(this.size);
    let at = 0;
    for (const part of this.parts) {
      bytes.set(part, at);
      at += part.length;
    }
    return {
      ids: this.ids,
      names: this.names,
      search: this.search,
      removed: Uint8Array.from(this.removed),
      offsets,
      bytes,
    };
  }
}
