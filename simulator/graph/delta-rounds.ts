/**
 * Delta rounds in progress, held per simulator instance (SimState) so two simulators in one process never share
 * paging state. A round is frozen when its first page is asked for and lives for an hour, so its pages can be read
 * again (a resumed reader continues from a link it saved).
 */
export interface DeltaEmission {
  id: string;
  removed?: 'changed' | 'deleted';
  members?: { id: string; removed: boolean; kind?: string }[];
}

export interface DeltaRound {
  tenantId: string;
  setPath: string;
  /** Changes after fromSeq and up to toSeq are in the round (fromSeq 0 = initial round). */
  fromSeq: number;
  toSeq: number;
  select?: string[];
  emissions: DeltaEmission[];
  createdAt: number;
}

const ROUND_TTL_MS = 3600_000;

export class DeltaRounds {
  private readonly rounds = new Map<string, DeltaRound>();

  get(id: string): DeltaRound | undefined {
    return this.rounds.get(id);
  }

  add(id: string, round: DeltaRound, now: number): void {
    this.rounds.set(id, round);
    for (const [k, r] of this.rounds) if (now - r.createdAt > ROUND_TTL_MS) this.rounds.delete(k);
  }

  delete(id: string): void {
    this.rounds.delete(id);
  }

  get size(): number {
    return this.rounds.size;
  }
}
