import { randomUUID } from 'node:crypto';
import { SimState } from '../state';
import { TenantStore } from '../store/tenant';

export interface GraphRequest {
  method: string;
  /** Path after /v1.0, starting with '/', not decoded beyond URL parsing. */
  path: string;
  query: URLSearchParams;
  headers: Record<string, string | undefined>;
  body: unknown;
}

export interface GraphResponse {
  status: number;
  headers: Record<string, string>;
  body?: unknown;
  /** Plain-text body (e.g. /users/$count). */
  text?: string;
  /**
   * The sequential chain of pages this response belongs to (a listing or a delta round followed by its next links),
   * for the request log: the benchmark sums each chain's modelled time to find the latency bound.
   */
  chain?: string;
  /** The latency model's time for this response (set when it is admitted and dispatched). */
  modelMs?: number;
}

export interface GraphContext {
  state: SimState;
  tenant: TenantStore;
  appId: string;
  roles: Set<string>;
  req: GraphRequest;
  /** Absolute service root, e.g. https://127.0.0.1:8443/v1.0 (Graph's https://graph.microsoft.com/v1.0). */
  root: string;
}

/** Thrown by handlers; turned into Graph's error body (https://learn.microsoft.com/en-us/graph/errors). */
export class GraphError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export function graphDate(d = new Date()): string {
  // innerError.date carries no zone suffix (https://learn.microsoft.com/en-us/graph/errors).
  return d.toISOString().replace(/\.\d{3}Z$/, '');
}

export function errorResponse(err: GraphError, clientRequestId?: string): GraphResponse {
  const requestId = randomUUID();
  return {
    status: err.status,
    headers: { ...err.headers },
    body: {
      error: {
        code: err.code,
        message: err.message,
        innerError: {
          date: graphDate(),
          'request-id': requestId,
          'client-request-id': clientRequestId ?? requestId,
        },
      },
    },
  };
}

export const notFound = (id: string) =>
  new GraphError(
    404,
    'Request_ResourceNotFound',
    `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`,
  );

export const forbidden = () =>
  new GraphError(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.');

export const badRequest = (message: string, code = 'Request_BadRequest') => new GraphError(400, code, message);

export const json = (status: number, body: unknown, headers: Record<string, string> = {}): GraphResponse => ({
  status,
  headers,
  body,
});

export const noContent = (): GraphResponse => ({ status: 204, headers: {} });
