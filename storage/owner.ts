import { randomBytes } from 'node:crypto';
import { IntegrityError, open, seal } from './crypto';
import { INDEX_PREFIX } from './pack-index';
import type { ObjectStore } from './object-store';
import { SNAPSHOT_PREFIX } from './snapshot';

/**
 * Who a repository belongs to, sealed with its data key (like restic's `config` file: repository id + owner). Written
 * create-only when the repository is created, never rewritten; opening the repository for anyone else fails.
 */
export const OWNER_FILE = 'keys/owner';

export interface RepositoryOwner {
  tenantId: string;
  resellerId: string;
}

export interface OwnerRecord extends RepositoryOwner {
  v: 1;
  /** 32 random bytes, hex: names the repository in errors and logs without naming its tenant. */
  repositoryId: string;
  createdAt: string;
}

/** The repository belongs to another tenant (or reseller) than the one opening it. */
export class ForeignRepositoryError extends Error {
  constructor(
    readonly repositoryId: string,
    readonly asking: RepositoryOwner,
  ) {
    super(
      `Repository ${repositoryId} belongs to another tenant; tenant ${asking.tenantId} of reseller ` +
        `${asking.resellerId} may not open it`,
    );
    this.name = 'ForeignRepositoryError';
  }
}

/**
 * The repository holds data but no owner record (it was created before owner records existed). Only a legacy
 * tenant may open it until an operator claims it (`npm run storage -- claim`).
 */
export class UnownedRepositoryError extends Error {
  constructor(readonly asking: RepositoryOwner) {
    super(
      `The repository opened for tenant ${asking.tenantId} holds data but records no owner; an operator must ` +
        `claim it explicitly (npm run storage -- claim)`,
    );
    this.name = 'UnownedRepositoryError';
  }
}

export async function readOwner(store: ObjectStore, dataKey: Buffer): Promise<OwnerRecord | undefined> {
  const bytes = await store.get(OWNER_FILE);
  if (!bytes) return undefined;
  const record = JSON.parse(open(dataKey, 'owner', bytes, OWNER_FILE).toString('utf8')) as OwnerRecord;
  if (record.v !== 1 || typeof record.tenantId !== 'string' || typeof record.resellerId !== 'string') {
    throw new IntegrityError(`${OWNER_FILE} has an unknown format`);
  }
  return record;
}

/**
 * Records `owner` create-only. Two openers racing both try; the loser reads (and is judged by) the winner's record,
 * so a repository never has two owners.
 */
export async function writeOwner(
  store: ObjectStore,
  dataKey: Buffer,
  owner: RepositoryOwner,
  now: Date,
): Promise<OwnerRecord> {
  const record: OwnerRecord = {
    v: 1,
    repositoryId: randomBytes(32).toString('hex'),
    tenantId: owner.tenantId,
    resellerId: owner.resellerId,
    createdAt: now.toISOString(),
  };
  const sealed = seal(dataKey, 'owner', Buffer.from(JSON.stringify(record)));
  if ((await store.put(OWNER_FILE, sealed, { ifGenerationMatch0: true })) === 'written') return record;
  const winner = await readOwner(store, dataKey);
  if (!winner) throw new Error(`${OWNER_FILE} vanished while being created`);
  return winner;
}

/** Nothing was ever committed or indexed: a repository whose creation stopped before its owner record. */
export async function holdsNoData(store: ObjectStore): Promise<boolean> {
  for (const prefix of [SNAPSHOT_PREFIX, INDEX_PREFIX]) {
    for await (const _ of store.list(prefix)) return false;
  }
  return true;
}

export function sameOwner(a: RepositoryOwner, b: RepositoryOwner): boolean {
  return a.tenantId === b.tenantId && a.resellerId === b.resellerId;
}
