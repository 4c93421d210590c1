import { setImmediate as yieldToEventLoop } from 'node:timers/promises';

/** Longest stretch of synchronous work between two turns of the event loop, in milliseconds. */
const MAX_BUSY_MS = 3;

/**
 * Lets the event loop turn during long CPU work. Awaiting promises alone never does: storing a 100,000-member group
 * or a 100,000-entry manifest would hold the loop, and every Graph response that arrived meanwhile (the
 * next page of a sequential listing among them) waited for it. Call `breathe()` between units of work; it yields
 * only once the stretch since the last yield is long enough to matter, so it costs next to nothing otherwise.
 */
export async function breathe(): Promise<void> {
  if (performance.now() - lastTurn < MAX_BUSY_MS) return;
  await yieldToEventLoop();
  lastTurn = performance.now();
}

// One clock for the whole thread: what matters is how long the thread went without a turn, whoever did the work. A
// timer notes the turns the loop takes by itself (waiting for I/O), so breathing right after one costs nothing.
let lastTurn = performance.now();
setInterval(() => (lastTurn = performance.now()), MAX_BUSY_MS / 2).unref();
