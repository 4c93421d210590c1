import { randomUUID } from 'node:crypto';
import type { Response } from 'express';

/**
 * Microsoft identity platform error body
 * (https://learn.microsoft.com/en-us/entra/identity-platform/reference-error-codes):
 * https://learn.microsoft.com/en-us/entra/identity-platform/reference-error-codes
 */
export function aadErrorBody(error: string, code: number, description: string): Record<string, unknown> {
  const traceId = randomUUID();
  const correlationId = randomUUID();
  const timestamp = new Date()
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d{3}Z$/, 'Z');
  return {
    error,
    error_description:
      `AADSTS${code}: ${description} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`
        .replace(' Trace ID:', '\r\nTrace ID:')
        .replace(' Correlation ID:', '\r\nCorrelation ID:')
        .replace(' Timestamp:', '\r\nTimestamp:'),
    error_codes: [code],
    timestamp,
    trace_id: traceId,
    correlation_id: correlationId,
    error_uri: `https://login.microsoftonline.com/error?code=${code}`,
  };
}

export function sendAadError(res: Response, status: number, error: string, code: number, description: string): void {
  res
    .status(status)
    .type('application/json; charset=utf-8')
    .send(JSON.stringify(aadErrorBody(error, code, description)));
}
