import type { Payload } from '@temporalio/common';
import { invalidRequest } from '../openapi/validator';

/** A payload as Temporal's codec-server protocol carries it: metadata values and data in base64. */
export interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

const base64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

export function payloadsFromJson(body: unknown): Payload[] {
  const list = (body as { payloads?: unknown } | undefined)?.payloads;
  if (!Array.isArray(list)) throw invalidRequest([{ field: 'body.payloads', message: 'must be an array' }]);
  return list.map((item: JsonPayload, i) => {
    const metadata: Record<string, Uint8Array> = {};
    for (const [key, value] of Object.entries(item?.metadata ?? {})) {
      if (typeof value !== 'string' || !base64.test(value)) {
        throw invalidRequest([{ field: `body.payloads.${i}.metadata.${key}`, message: 'must be base64' }]);
      }
      metadata[key] = Buffer.from(value, 'base64');
    }
    if (item?.data !== undefined && (typeof item.data !== 'string' || !base64.test(item.data))) {
      throw invalidRequest([{ field: `body.payloads.${i}.data`, message: 'must be base64' }]);
    }
    return { metadata, data: Buffer.from(item?.data ?? '', 'base64') };
  });
}

export function payloadsToJson(payloads: Payload[]): { payloads: JsonPayload[] } {
  return {
    payloads: payloads.map((p) => ({
      metadata: Object.fromEntries(
        Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? new Uint8Array()).toString('base64')]),
      ),
      data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
    })),
  };
}
