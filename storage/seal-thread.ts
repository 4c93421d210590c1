/**
 * Runs in a worker thread of SealPool: compresses and encrypts blobs off the main thread. Messages carry whole
 * batches (a page of objects), so the per-message cost is paid once per batch, not once per object.
 */
import { parentPort } from 'node:worker_threads';
import { sealCompressed, type SealPurpose } from './crypto';

export interface SealRequest {
  id: number;
  key: Uint8Array;
  purpose: SealPurpose;
  items: Uint8Array[];
}

export interface SealResponse {
  id: number;
  sealed?: Uint8Array[];
  error?: string;
}

const bytes = (u: Uint8Array) => Buffer.from(u.buffer, u.byteOffset, u.byteLength);

parentPort?.on('message', (request: SealRequest) => {
  let response: SealResponse;
  try {
    const key = bytes(request.key);
    response = {
      id: request.id,
      sealed: request.items.map((item) => sealCompressed(key, request.purpose, bytes(item))),
    };
  } catch (err) {
    response = { id: request.id, error: err instanceof Error ? err.message : String(err) };
  }
  parentPort?.postMessage(response);
});
