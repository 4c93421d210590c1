import type { PathsFragment } from '../types';

const tenantIdParam = {
  name: 'tenantId',
  in: 'path',
  required: true,
  schema: { type: 'string', format: 'uuid' },
} as const;
const jobIdParam = (name: string) =>
  ({ name, in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }) as const;
const snapshotId = { type: 'string', pattern: '^[0-9a-f]{64}$', description: 'A snapshot id (lower-case SHA-256)' };
const errors = {
  '400': { $ref: '#/components/responses/BadRequest' },
  '401': { $ref: '#/components/responses/Unauthorized' },
  '403': { $ref: '#/components/responses/Forbidden' },
  '404': { $ref: '#/components/responses/NotFound' },
};
const started = {
  description: 'Accepted: the job runs; poll its Location (or GET /jobs)',
  content: {
    'application/json': {
      schema: {
        type: 'object',
        required: ['jobId', 'workflowId', 'status'],
        properties: { jobId: { type: 'string' }, workflowId: { type: 'string' }, status: { type: 'string' } },
      },
    },
  },
};
const job = {
  description: 'The job: running with progress, or its result',
  content: { 'application/json': { schema: { type: 'object', required: ['jobId', 'workflowId', 'status'] } } },
};

/** Download (zip export of a snapshot, a 7-day signed link) and verify (re-read and hash every blob) jobs. */
export const exportPaths: PathsFragment = {
  tag: { name: 'exports', description: 'Download a snapshot as a zip of JSON; verify a repository.' },
  paths: {
    '/tenants/{tenantId}/exports': {
      post: {
        operationId: 'startExport',
        'x-audit-action': 'tenant.export',
        summary: 'Start a download: the whole tenant, one object type or one object of a snapshot (newest if unset)',
        tags: ['exports'],
        parameters: [tenantIdParam],
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: {
                type: 'object',
                additionalProperties: false,
                required: ['level'],
                properties: {
                  level: { type: 'string', enum: ['tenant', 'type', 'object'] },
                  snapshotId,
                  type: { type: 'string', minLength: 1, maxLength: 100, description: 'Catalog type, e.g. users' },
                  objectId: { type: 'string', minLength: 1, maxLength: 200 },
                },
              },
            },
          },
        },
        responses: {
          '202': started,
          ...errors,
          '409': { $ref: '#/components/responses/Conflict' },
        },
      },
    },
    '/tenants/{tenantId}/exports/{exportId}': {
      get: {
        operationId: 'getExport',
        summary: 'An export: building (objects and bytes written), completed (signed URL), failed or expired',
        tags: ['exports'],
        parameters: [tenantIdParam, jobIdParam('exportId')],
        responses: { '200': job, ...errors },
      },
    },
    '/tenants/{tenantId}/verifications': {
      post: {
        operationId: 'startVerification',
        'x-audit-action': 'tenant.verify',
        summary: 'Re-read a snapshot (or, without snapshotId, every pack of the repository) and report bad blobs',
        tags: ['exports'],
        parameters: [tenantIdParam],
        requestBody: {
          required: false,
          content: {
            'application/json': {
              schema: { type: 'object', additionalProperties: false, properties: { snapshotId } },
            },
          },
        },
        responses: { '202': started, ...errors },
      },
    },
    '/tenants/{tenantId}/verifications/{verifyId}': {
      get: {
        operationId: 'getVerification',
        summary: 'A verification: running, ok, damaged (with every bad blob and the objects using it) or failed',
        tags: ['exports'],
        parameters: [tenantIdParam, jobIdParam('verifyId')],
        responses: { '200': job, ...errors },
      },
    },
  },
  schemas: {},
};
