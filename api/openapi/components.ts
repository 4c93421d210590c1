import type { JsonSchema, OperationObject, ResponseObject } from './types';

/** Schemas and responses shared by every fragment. Reference them as `#/components/schemas/Name`. */
export const sharedSchemas: Record<string, JsonSchema> = {
  Problem: {
    type: 'object',
    description: 'RFC 9457 problem details; every error has this shape (content type application/problem+json).',
    required: ['title', 'status'],
    properties: {
      type: { type: 'string' },
      title: { type: 'string' },
      status: { type: 'integer' },
      detail: { type: 'string' },
      errors: {
        type: 'array',
        description: 'Validation errors: the request fields at fault, e.g. `body.name`.',
        items: {
          type: 'object',
          required: ['field', 'message'],
          properties: { field: { type: 'string' }, message: { type: 'string' } },
        },
      },
    },
  },
  Id: { type: 'string', pattern: '^[a-z0-9-]{1,64}$' },
};

/** An error response: a problem+json body (`#/components/schemas/Problem`). */
export const problemResponse = (description: string): ResponseObject => ({
  description,
  content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
});
const problem = problemResponse;

/** A response with a JSON body. */
export const jsonResponse = (description: string, schema: JsonSchema): ResponseObject => ({
  description,
  content: { 'application/json': { schema } },
});

/** A required JSON request body. */
export const jsonBody = (schema: JsonSchema): NonNullable<OperationObject['requestBody']> => ({
  required: true,
  content: { 'application/json': { schema } },
});

/** A path parameter that holds a uuid (a tenant, a job, a restore). */
export const uuidPathParam = <N extends string>(name: N) =>
  ({ name, in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }) as const;

/** The errors almost every authenticated operation can answer. */
export const commonErrors = {
  '400': { $ref: '#/components/responses/BadRequest' },
  '401': { $ref: '#/components/responses/Unauthorized' },
  '403': { $ref: '#/components/responses/Forbidden' },
  '404': { $ref: '#/components/responses/NotFound' },
};

/** Reference as `{ $ref: '#/components/responses/BadRequest' }`. */
export const sharedResponses: Record<string, ResponseObject> = {
  BadRequest: problem('The request does not match this document; `errors` names each field at fault.'),
  Unauthorized: problem('No API key, or an unknown or revoked one.'),
  Forbidden: problem('An organization user called a route only resellers may use.'),
  NotFound: problem('No such resource, or one the caller does not own.'),
  Conflict: problem('The request contradicts the current state; `detail` says why.'),
};

export const securitySchemes = {
  bearerApiKey: {
    type: 'http',
    scheme: 'bearer',
    description: 'API key `ebk_{resellerId}_{keyId}_{secret}`, created by `npm run accounts -- create-key`.',
  },
  apiKeyHeader: { type: 'apiKey', in: 'header', name: 'X-Api-Key' },
  codecToken: {
    type: 'http',
    scheme: 'bearer',
    description: 'Operator codec token (`CODEC_AUTH_TOKEN`), or the cookie set by `POST /codec/login`.',
  },
};
