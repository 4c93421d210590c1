import { randomUUID } from 'node:crypto';
import type { HttpMethod, JsonSchema, OpenApiDocument, OperationObject } from '../../api/openapi/types';

/** A deterministic pseudo-random source (mulberry32): the same seed generates the same requests on every run. */
export class Rng {
  constructor(private state: number) {}
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(below: number): number {
    return Math.floor(this.next() * below);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
  uuid(): string {
    const hex = Array.from({ length: 32 }, () => '0123456789abcdef'[this.int(16)]).join('');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20)}`;
  }
}

/** Who a generated request claims to be. `valid` keys authenticate; the others must be refused with 401. */
export interface Caller {
  name: string;
  headers: Record<string, string>;
  valid: boolean;
  /** The reseller whose ids are "own" for this caller (undefined: none). */
  resellerId?: string;
}

/** Ids the fuzz substitutes into paths and bodies: the victim's (owned by another reseller than most callers). */
export interface KnownIds {
  /** Values per parameter or property name, e.g. tenantId → [victim's tenant]. */
  foreign: Record<string, string[]>;
}

export interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
  /** The operation it aims at (undefined for paths and methods the document does not have). */
  operationId?: string;
  /** What makes it a request the API must refuse when it changes state. */
  why: string;
  /** A path or body id belongs to another reseller than the caller's. */
  foreignIds: boolean;
}

export interface DocumentOperation {
  method: HttpMethod;
  path: string;
  operation: OperationObject;
}

export function operationsOf(document: OpenApiDocument): DocumentOperation[] {
  const result: DocumentOperation[] = [];
  for (const [path, item] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(item)) {
      result.push({ method: method as HttpMethod, path, operation: operation as OperationObject });
    }
  }
  return result;
}

const garbageIds = [
  '',
  '..',
  '%2e%2e',
  '%2F..%2F..%2Fetc%2Fpasswd',
  '%00',
  '%E0%A4%A',
  '%',
  "x' OR 1=1 --",
  "' OR WorkflowType = 'tenantWorkflow",
  '%22%3E%3Cscript%3E',
  '%F0%9F%92%A5',
  '00000000-0000-0000-0000-000000000000',
  'ZZZZZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZZZZZZZZZ',
  'rsl-000000000000',
  'storage-probe-00000000-0000-0000-0000-000000000000',
  '%7BtenantId%7D',
  'a'.repeat(2000),
  '-1',
  '1e309',
  'null',
  '__proto__',
  'constructor',
];

const garbageQueryValues = [
  '',
  '%',
  '%E0%A4%A',
  "' OR 1=1 --",
  "x') OR ('1'='1",
  '-1',
  '0',
  '99999999999999999999',
  'NaN',
  'true',
  '[]',
  '{}',
  'a'.repeat(3000),
  '%00',
  '__proto__',
];

/** One value that satisfies `schema` (as far as this simple sampler can tell), for building otherwise valid bodies. */
export function sampleOf(schema: JsonSchema, document: OpenApiDocument, rng: Rng, depth = 0): unknown {
  if (typeof schema.$ref === 'string') {
    const name = schema.$ref.replace('#/components/schemas/', '');
    return sampleOf(document.components.schemas[name] ?? {}, document, rng, depth + 1);
  }
  if (Array.isArray(schema.enum)) return rng.pick(schema.enum);
  if ('const' in schema) return schema.const;
  if (schema.default !== undefined) return schema.default;
  switch (schema.type) {
    case 'object': {
      const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
      const required = (schema.required ?? []) as string[];
      const result: Record<string, unknown> = {};
      for (const [name, property] of Object.entries(properties)) {
        if (required.includes(name) || rng.next() < 0.5) result[name] = sampleOf(property, document, rng, depth + 1);
      }
      return result;
    }
    case 'array':
      return [];
    case 'integer':
    case 'number':
      return typeof schema.minimum === 'number' ? schema.minimum : 1;
    case 'boolean':
      return false;
    case 'string': {
      if (schema.format === 'uuid') return rng.uuid();
      const pattern = typeof schema.pattern === 'string' ? new RegExp(schema.pattern, 'u') : undefined;
      const candidates = ['fuzz-value', 'backups-eu', 'a1b2', 'contoso.example.com', 'x'];
      return candidates.find((c) => !pattern || pattern.test(c)) ?? 'fuzz-value';
    }
    default:
      return 'fuzz';
  }
}

function resolve(schema: JsonSchema | undefined, document: OpenApiDocument): JsonSchema | undefined {
  if (schema && typeof schema.$ref === 'string') {
    return document.components.schemas[schema.$ref.replace('#/components/schemas/', '')];
  }
  return schema;
}

function deeplyNested(levels: number): string {
  return '['.repeat(levels) + ']'.repeat(levels);
}

/** JSON bodies that the operation's schema refuses, each with why. */
function invalidBodies(schema: JsonSchema, document: OpenApiDocument, rng: Rng): { why: string; text: string }[] {
  const root = resolve(schema, document) ?? {};
  const valid = sampleOf(root, document, rng) as Record<string, unknown>;
  const required = (root.required ?? []) as string[];
  const properties = (root.properties ?? {}) as Record<string, JsonSchema>;
  const wrongValues: unknown[] = [null, 42, -1.5, true, [], {}, 'x'.repeat(5000), [1, [2, [3]]], '\u0000', '💥'];
  const cases: { why: string; text: string }[] = [
    { why: 'body is an array', text: JSON.stringify([valid]) },
    { why: 'body is a number', text: '12345678901234567890' },
    { why: 'body is null', text: 'null' },
    { why: 'body is a string', text: JSON.stringify('{"a":1}') },
    { why: 'body is deeply nested arrays', text: deeplyNested(rng.pick([1000, 10_000, 45_000])) },
  ];
  for (const name of required) {
    const without = { ...valid };
    delete without[name];
    cases.push({ why: `body without required ${name}`, text: JSON.stringify(without) });
  }
  for (const [name, property] of Object.entries(properties)) {
    const target = resolve(property, document) ?? {};
    const wrong = wrongValues.filter((v) => !fitsLoosely(v, target));
    if (wrong.length > 0) {
      cases.push({ why: `body.${name} of a wrong type`, text: JSON.stringify({ ...valid, [name]: rng.pick(wrong) }) });
    }
  }
  if (root.additionalProperties === false) {
    cases.push({
      why: 'body with an unknown property, deeply nested',
      text: JSON.stringify({ ...valid, __proto__x: 1 }).replace(/}$/, `,"nested":${deeplyNested(5000)}}`),
    });
    cases.push({
      why: 'body with __proto__',
      text: JSON.stringify(valid).replace(/^{/, '{"__proto__":{"admin":true},'),
    });
  }
  return cases;
}

/** Whether a wrong value might still satisfy the schema (so it is not used as "wrong"). */
function fitsLoosely(value: unknown, schema: JsonSchema): boolean {
  if (Array.isArray(schema.enum)) return schema.enum.includes(value);
  switch (schema.type) {
    case 'string':
      return typeof value === 'string';
    case 'integer':
    case 'number':
      return typeof value === 'number';
    case 'boolean':
      return typeof value === 'boolean';
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value);
    case 'array':
      return Array.isArray(value);
    default:
      return true;
  }
}

const syntaxErrors = [
  '{',
  '{"a":',
  "{'a': 1}",
  '{"a": 1,}',
  '[1, 2',
  'undefined',
  '\u0000\u0001\u0002',
  '{"a": NaN}',
  '{"a": "\\uZZZZ"}',
];

const wrongContentTypes = [
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=xyz',
  'application/xml',
  'application/octet-stream',
  'application/json; charset=utf-7',
  'application/json; charset=ebcdic',
  '',
];

/**
 * Generates `perOperation` malformed requests against each operation of the document, plus requests with methods
 * and paths the document does not have. A request to an operation that changes state is always made invalid in a
 * way that must be refused (no key, a wrong key, another reseller's id, a body the schema refuses, a malformed body):
 * the test then checks that nothing changed.
 */
export function generateRequests(input: {
  document: OpenApiDocument;
  callers: Caller[];
  /** Valid key holders that own no ids in `known` (used where the request's only flaw is a foreign id). */
  foreignCallers: Caller[];
  known: KnownIds;
  perOperation: number;
  seed: number;
}): FuzzRequest[] {
  const { document, callers, known, perOperation } = input;
  const rng = new Rng(input.seed);
  const requests: FuzzRequest[] = [];
  for (const { method, path, operation } of operationsOf(document)) {
    // Operations that change state name their audit action (the codec's encode and decode change nothing).
    const changesState = operation['x-audit-action'] !== undefined;
    const bodyContent = operation.requestBody?.content ?? {};
    const jsonSchema = bodyContent['application/json']?.schema;
    const bodyRequired = operation.requestBody?.required ?? false;
    const pathParams = (operation.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name);
    const queryParams = (operation.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name);
    for (let i = 0; i < perOperation; i++) {
      let caller = rng.pick(callers);
      let foreignIds = false;
      const flaws: string[] = [];
      // Paths: each parameter is another reseller's id, an unknown one or garbage.
      const values: Record<string, string> = {};
      for (const name of pathParams) {
        const roll = rng.next();
        if (roll < 0.45 && known.foreign[name]?.length) {
          values[name] = encodeURIComponent(rng.pick(known.foreign[name]));
          foreignIds = true;
        } else if (roll < 0.65) {
          values[name] = rng.uuid();
          flaws.push(`unknown ${name}`);
        } else {
          values[name] = rng.pick(garbageIds);
          flaws.push(`garbage ${name}`);
        }
      }
      if (foreignIds) {
        caller = rng.pick(input.foreignCallers.concat(callers.filter((c) => !c.valid)));
        flaws.push('another reseller’s id');
      }
      let concretePath = path.replace(/\{([^}]+)\}/g, (_m, name: string) => values[name]);
      // Query strings: garbage values for declared parameters, repeated ones, unknown ones.
      const query: string[] = [];
      const queryCount = rng.int(4);
      for (let q = 0; q < queryCount; q++) {
        const name = rng.next() < 0.7 && queryParams.length ? rng.pick(queryParams) : rng.pick(['x', 'a[b]', '%', '']);
        query.push(
          `${encodeURIComponent(name)}=${rng.next() < 0.8 ? encodeURIComponent(rng.pick(garbageQueryValues)) : rng.pick(garbageQueryValues)}`,
        );
      }
      if (query.length) concretePath += `?${query.join('&')}`;
      // Bodies.
      const headers: Record<string, string> = { ...caller.headers };
      let body: Buffer | undefined;
      const bodyRoll = rng.next();
      if (bodyRoll < 0.45 && jsonSchema) {
        const bad = rng.pick(invalidBodies(jsonSchema, document, rng));
        body = Buffer.from(bad.text);
        headers['content-type'] = 'application/json';
        flaws.push(bad.why);
      } else if (bodyRoll < 0.6) {
        body = Buffer.from(rng.pick(syntaxErrors));
        headers['content-type'] = 'application/json';
        flaws.push('malformed JSON');
      } else if (bodyRoll < 0.7) {
        // More than the 100 kB the JSON parser takes.
        const size = rng.pick([150_000, 1_200_000]);
        body = Buffer.from(`{"name":"${'x'.repeat(size)}"}`);
        headers['content-type'] = 'application/json';
        flaws.push('body too large');
      } else if (bodyRoll < 0.85) {
        const sample = jsonSchema ? JSON.stringify(sampleOf(jsonSchema, document, rng)) : '{"a":1}';
        body = Buffer.from(rng.next() < 0.5 ? sample : 'token=x&name=y');
        const type = rng.pick(wrongContentTypes);
        if (type) headers['content-type'] = type;
        if (bodyRequired) flaws.push(`content type '${type}'`);
      } else if (bodyRoll < 0.9) {
        body = Buffer.from('\x1f\x8b\x08garbage');
        headers['content-type'] = 'application/json';
        headers['content-encoding'] = rng.pick(['gzip', 'br', 'deflate', 'x-unknown']);
        flaws.push('undecodable content encoding');
      } else if (jsonSchema) {
        // An otherwise valid body naming another reseller's ids.
        const sample = sampleOf(jsonSchema, document, rng) as Record<string, unknown>;
        for (const name of Object.keys(sample)) {
          if (known.foreign[name]?.length) {
            sample[name] = rng.pick(known.foreign[name]);
            foreignIds = true;
          }
        }
        body = Buffer.from(JSON.stringify(sample));
        headers['content-type'] = 'application/json';
        if (foreignIds) {
          caller = rng.pick(input.foreignCallers);
          Object.assign(headers, caller.headers);
          flaws.push('another reseller’s id in the body');
        }
      }
      // Header noise.
      const headerRoll = rng.next();
      if (headerRoll < 0.1) headers['accept'] = rng.pick(['text/html', 'application/xml', '*/*;q=0', 'ü']);
      else if (headerRoll < 0.15) headers['x-namespace'] = rng.pick(['other', '', 'a'.repeat(4000)]);
      else if (headerRoll < 0.2) headers['x-forwarded-for'] = '1.2.3.4, <script>';
      else if (headerRoll < 0.25) headers['cookie'] = 'entra_backup_codec_session=garbage; a=b';
      if (!caller.valid) flaws.push(`caller ${caller.name}`);
      if (changesState && flaws.length === 0) {
        // Nothing made this request invalid: make sure it is, with a key that authenticates no one.
        delete headers['x-api-key'];
        headers.authorization = 'Bearer ebk_rsl-000000000000_key-000000000000_x';
        flaws.push('unknown key');
      }
      requests.push({
        method: method.toUpperCase(),
        path: concretePath,
        headers,
        body,
        operationId: operation.operationId,
        why: flaws.join(', '),
        foreignIds,
      });
    }
  }
  // Methods and paths the document does not have.
  const paths = Object.keys(document.paths);
  for (let i = 0; i < perOperation; i++) {
    const template = rng.pick(paths);
    const method = rng.pick(['DELETE', 'PATCH', 'PUT', 'POST', 'GET', 'OPTIONS', 'TRACE']);
    const defined = (document.paths[template] as Record<string, unknown>)[method.toLowerCase()] !== undefined;
    const path =
      defined || rng.next() < 0.5
        ? `${template.replace(/\{[^}]+\}/g, () => rng.uuid())}/${rng.pick(['x', '..%2f', '%00', randomUUID()])}`
        : template.replace(/\{[^}]+\}/g, () => rng.uuid());
    const caller = rng.pick(callers);
    requests.push({
      method,
      path,
      headers: { ...caller.headers, 'content-type': 'application/json' },
      body: method === 'GET' || method === 'OPTIONS' ? undefined : Buffer.from('{"name":"x"}'),
      why: 'no such operation',
      foreignIds: false,
    });
  }
  return requests;
}
