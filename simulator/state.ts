import { generateKeyPairSync, KeyObject, randomUUID } from 'node:crypto';
import { AppRegistry } from './identity/apps';
import { TenantStore } from './store/tenant';
import { SimClock } from './util/clock';
import { ThrottleBudget } from './throttling/budget';
import { FaultInjector } from './faults/faults';
import { DeltaRounds } from './graph/delta-rounds';

export interface RequestLogEntry {
  seq: number;
  at: string;
  kind: 'graph' | 'token' | 'consent';
  tenantId?: string;
  appId?: string;
  method: string;
  url: string;
  status: number;
  resourceUnits?: number;
  /** Set when the request was part of a $batch (the id of the inner request). */
  batchRequestId?: string;
  fault?: string;
  earlyRetry?: boolean;
  /** The latency model's time for the request (an inner request of a $batch: its own). */
  modelMs?: number;
  /** Pages of one listing or delta round share a chain (their next links), read one after another. */
  chain?: string;
}

/** Everything one simulator instance holds; shared by the identity, Graph and control layers. */
export class SimState {
  readonly clock = new SimClock();
  readonly tenants = new Map<string, TenantStore>();
  readonly apps = new AppRegistry();
  readonly throttle = new ThrottleBudget();
  readonly faults: FaultInjector;
  /** Delta rounds being paged (per instance: never shared between simulators in one process). */
  readonly deltaRounds = new DeltaRounds();
  readonly signingKey: { privateKey: KeyObject; publicKey: KeyObject; kid: string };
  /** The publisher's home tenant id (appOwnerOrganizationId of our multi-tenant apps). */
  readonly publisherTenantId = randomUUID();
  readonly requestLog: RequestLogEntry[] = [];
  /** replicationDelay fault: created object id → requests naming it that still answer 404. */
  readonly replicaLag = new Map<string, number>();
  requestLogLimit = 100_000;
  private logSeq = 0;
  baseUrl = '';
  authorityHost = '';

  constructor(readonly seed: number) {
    this.faults = new FaultInjector(seed);
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    this.signingKey = { privateKey, publicKey, kid: randomUUID().replace(/-/g, '').slice(0, 27) };
  }

  /** Tenants are addressed by GUID or by any of their domain names (as on login.microsoftonline.com). */
  findTenant(idOrDomain: string): TenantStore | undefined {
    const byId = this.tenants.get(idOrDomain.toLowerCase());
    if (byId) return byId;
    const lower = idOrDomain.toLowerCase();
    for (const t of this.tenants.values()) if (t.defaultDomain.toLowerCase() === lower) return t;
    return undefined;
  }

  log(entry: Omit<RequestLogEntry, 'seq' | 'at'>): RequestLogEntry {
    const e: RequestLogEntry = { seq: ++this.logSeq, at: new Date().toISOString(), ...entry };
    this.requestLog.push(e);
    if (this.requestLog.length > this.requestLogLimit)
      this.requestLog.splice(0, this.requestLog.length - this.requestLogLimit);
    return e;
  }
}
