/**
 * Simulated time. Tests advance it to expire access tokens (1 h) and delta tokens (7 days) without waiting;
 * throttling windows use real time (they are about request pacing, which tests observe in real time).
 */
export class SimClock {
  private offsetMs = 0;
  now(): number {
    return Date.now() + this.offsetMs;
  }
  advance(ms: number): void {
    this.offsetMs += ms;
  }
  /** With milliseconds, as audit records carry their time (Graph shows 7 fractional digits). */
  isoPrecise(ms = this.now()): string {
    return new Date(ms).toISOString();
  }
  iso(ms = this.now()): string {
    return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
  }
}
