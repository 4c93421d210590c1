import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { IntegrityError, open, seal } from './crypto';
import type { ObjectStore } from './object-store';

/** The wrapped data key of a repository. One per tenant; written create-only, never rewritten. */
export const DATA_KEY_FILE = 'keys/data-key.json';

/**
 * Key material that cannot end up in logs by accident: console.log, util.inspect, JSON.stringify and template
 * strings all print a placeholder. Only `bytes()` gives the secret, to the crypto code.
 */
class SecretKey {
  readonly #bytes: Buffer;

  constructor(
    bytes: Buffer,
    private readonly label: string,
  ) {
    if (bytes.length !== 32) throw new Error(`${label} must be 32 bytes, got ${bytes.length}`);
    this.#bytes = Buffer.from(bytes);
  }

  bytes(): Buffer {
    return this.#bytes;
  }

  toString(): string {
    return `[${this.label}]`;
  }

  toJSON(): string {
    return this.toString();
  }

  [inspect.custom](): string {
    return this.toString();
  }
}

export class MasterKey extends SecretKey {
  /** Parses the configured master key: 32 bytes, base64. The error never echoes the value. */
  static fromBase64(base64: string): MasterKey {
    const trimmed = base64.trim();
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(trimmed)) throw new Error('Master key is not valid base64');
    const bytes = Buffer.from(trimmed, 'base64');
    if (bytes.length !== 32) throw new Error(`Master key must decode to 32 bytes, got ${bytes.length}`);
    return new MasterKey(bytes, 'MasterKey');
  }

  static generate(): MasterKey {
    return new MasterKey(randomBytes(32), 'MasterKey');
  }
}

export class DataKey extends SecretKey {
  constructor(bytes: Buffer) {
    super(bytes, 'DataKey');
  }
}

export class WrongMasterKeyError extends Error {
  constructor() {
    super(`The master key cannot unwrap this repository's data key (${DATA_KEY_FILE}): wrong master key`);
    this.name = 'WrongMasterKeyError';
  }
}

interface DataKeyFile {
  version: 1;
  algorithm: 'AES-256-GCM';
  createdAt: string;
  /** base64 of seal(masterKey, 'data-key', dataKey). */
  wrappedKey: string;
}

function unwrap(master: MasterKey, file: Buffer): DataKey {
  let parsed: DataKeyFile;
  try {
    parsed = JSON.parse(file.toString('utf8')) as DataKeyFile;
  } catch {
    throw new IntegrityError(`${DATA_KEY_FILE} is not valid JSON`);
  }
  if (parsed.version !== 1 || typeof parsed.wrappedKey !== 'string') {
    throw new IntegrityError(`${DATA_KEY_FILE} has an unknown format`);
  }
  try {
    return new DataKey(open(master.bytes(), 'data-key', Buffer.from(parsed.wrappedKey, 'base64')));
  } catch (err) {
    if (err instanceof IntegrityError) throw new WrongMasterKeyError();
    throw err;
  }
}

/**
 * Reads the repository's data key, creating it on first use. Two writers initialising at once both try a
 * create-only write; the loser reads the winner's key, so a repository never ends up with two keys.
 */
export async function loadOrCreateDataKey(store: ObjectStore, master: MasterKey, now = new Date()): Promise<DataKey> {
  const existing = await store.get(DATA_KEY_FILE);
  if (existing) return unwrap(master, existing);
  const dataKey = randomBytes(32);
  const file: DataKeyFile = {
    version: 1,
    algorithm: 'AES-256-GCM',
    createdAt: now.toISOString(),
    wrappedKey: seal(master.bytes(), 'data-key', dataKey).toString('base64'),
  };
  const result = await store.put(DATA_KEY_FILE, Buffer.from(JSON.stringify(file, null, 2)), {
    ifGenerationMatch0: true,
  });
  if (result === 'written') return new DataKey(dataKey);
  const winner = await store.get(DATA_KEY_FILE);
  if (!winner) throw new Error(`${DATA_KEY_FILE} vanished while being created`);
  return unwrap(master, winner);
}
