import type { SkipReason } from '../catalog/types';
import type { SnapshotRecord, TypeCoverage } from './snapshot';
import type { AddObjectOptions, TypeResult, TypeWriter } from './type-writer';

export type TypeOutcome = { status: 'captured' } | { status: 'skipped'; reason: SkipReason; detail?: string };

/** The parts of Repository a SnapshotWriter uses (kept narrow to avoid a cycle with repository.ts). */
export interface SnapshotWriterHost {
  openTypeWriter(type: string, options: { mode: 'full' | 'changes'; base?: string }): Promise<TypeWriter>;
  latestManifest(type: string): Promise<string | undefined>;
  commitSnapshot(input: CommitInput): Promise<{ id: string; record: SnapshotRecord }>;
}

export interface CommitInput {
  tenantId: string;
  startedAt: Date;
  finishedAt?: Date;
  types: Record<string, TypeCoverage>;
}

/** Turns finished type results and skips into the snapshot record's coverage map. */
export function coverageOf(result: TypeResult): TypeCoverage {
  return {
    status: 'captured',
    count: result.count,
    softDeleted: result.softDeleted,
    manifest: result.manifest,
    ...(result.syncState ? { syncState: result.syncState } : {}),
  };
}

/**
 * One snapshot written from one process: full reads of each type, each diffed against the type's latest manifest.
 * Distributed backups (one activity per type) use Repository.openTypeWriter and Repository.commitSnapshot directly.
 */
export class SnapshotWriter {
  private readonly writers = new Map<string, Promise<TypeWriter>>();
  private readonly coverage: Record<string, TypeCoverage> = {};

  constructor(
    private readonly host: SnapshotWriterHost,
    readonly tenantId: string,
    readonly startedAt: Date,
  ) {}

  private writer(type: string): Promise<TypeWriter> {
    if (this.coverage[type]) return Promise.reject(new Error(`Type ${type} is already finished`));
    let writer = this.writers.get(type);
    if (!writer) {
      writer = this.host.latestManifest(type).then((base) => this.host.openTypeWriter(type, { mode: 'full', base }));
      this.writers.set(type, writer);
    }
    return writer;
  }

  async addObject(
    type: string,
    id: string,
    displayName: string | null,
    json: unknown,
    options?: AddObjectOptions,
  ): Promise<string> {
    return (await this.writer(type)).addObject(id, displayName, json, options);
  }

  /** Ends a type: captured (manifest written) or skipped with its reason (nothing of it kept in this snapshot). */
  async finishType(type: string, outcome: TypeOutcome = { status: 'captured' }): Promise<TypeCoverage> {
    if (outcome.status === 'skipped') {
      const writer = this.writers.get(type);
      if (writer) await (await writer).abort();
      this.writers.delete(type);
      const skipped: TypeCoverage = { status: 'skipped', count: 0, reason: outcome.reason, detail: outcome.detail };
      this.coverage[type] = skipped;
      return skipped;
    }
    const result = await (await this.writer(type)).finish();
    this.writers.delete(type);
    this.coverage[type] = coverageOf(result);
    return this.coverage[type];
  }

  /** Finishes types still open as captured, then writes the snapshot record. */
  async commit(finishedAt?: Date): Promise<{ id: string; record: SnapshotRecord }> {
    for (const type of [...this.writers.keys()]) await this.finishType(type);
    return this.host.commitSnapshot({
      tenantId: this.tenantId,
      startedAt: this.startedAt,
      finishedAt,
      types: this.coverage,
    });
  }
}
