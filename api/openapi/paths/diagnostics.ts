import { jsonResponse } from '../components';
import type { PathsFragment } from '../types';

export const diagnosticsPaths: PathsFragment = {
  tag: { name: 'operations', description: 'Health and diagnostics of the deployment.' },
  paths: {
    '/diagnostics/storage-probes': {
      post: {
        operationId: 'startStorageProbe',
        'x-audit-action': 'diagnostics.storage-probe.start',
        summary: 'Start a workflow whose activity writes an object to the default bucket and reads it back',
        tags: ['operations'],
        requestBody: {
          required: false,
          content: {
            'application/json': {
              schema: {
                type: 'object',
                additionalProperties: false,
                properties: { holdSeconds: { type: 'integer', minimum: 0, maximum: 3600 } },
              },
            },
          },
        },
        responses: {
          '202': jsonResponse('Started', { $ref: '#/components/schemas/StorageProbe' }),
          '400': { $ref: '#/components/responses/BadRequest' },
          '401': { $ref: '#/components/responses/Unauthorized' },
        },
      },
    },
    '/diagnostics/storage-probes/{workflowId}': {
      get: {
        operationId: 'getStorageProbe',
        summary: 'Status of a storage probe',
        tags: ['operations'],
        parameters: [{ name: 'workflowId', in: 'path', required: true, schema: { type: 'string' } }],
        responses: {
          '200': jsonResponse('Status', { $ref: '#/components/schemas/StorageProbe' }),
          '401': { $ref: '#/components/responses/Unauthorized' },
          '404': { $ref: '#/components/responses/NotFound' },
        },
      },
    },
  },
  schemas: {
    StorageProbe: {
      type: 'object',
      required: ['workflowId', 'status'],
      properties: {
        workflowId: { type: 'string' },
        status: { enum: ['writing', 'holding', 'verifying', 'completed', 'failed'] },
        result: { type: 'object' },
      },
    },
  },
};
