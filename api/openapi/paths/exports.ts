import { commonErrors, jsonBody, jsonResponse, uuidPathParam } from '../components';
import type { PathsFragment } from '../types';

const tenantIdParam = uuidPathParam('tenantId');
const snapshotId = { type: 'string', pattern: '^[0-9a-f]{64}$', description: 'A snapshot id (lower-case SHA-256)' };
const errors = commonErrors;
const started = jsonResponse('Accepted: the job runs; poll its Location (or GET /jobs)', {
  type: 'object',
  required: ['jobId', 'workflowId', 'status'],
  properties: { jobId: { type: 'string' }, workflowId: { type: 'string' }, status: { type: 'string' } },
});
const job = jsonResponse('The job: running with progress, or its result', {
  type: 'object',
  required: ['jobId', 'workflowId', 'status'],
});

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
        requestBody: jsonBody({
          type: 'object',
          additionalProperties: false,
          required: ['level'],
          properties: {
            level: { type: 'string', enum: ['tenant', 'type', 'object'] },
            snapshotId,
            type: { type: 'string', minLength: 1, maxLength: 100, description: 'Catalog type, e.g. users' },
            objectId: { type: 'string', minLength: 1, maxLength: 200 },
          },
        }),
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
        parameters: [tenantIdParam, uuidPathParam('exportId')],
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
        parameters: [tenantIdParam, uuidPathParam('verifyId')],
        responses: { '200': job, ...errors },
      },
    },
  },
  schemas: {},
};
