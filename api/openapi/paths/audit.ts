import { jsonResponse } from '../components';
import type { PathsFragment } from '../types';

export const auditPaths: PathsFragment = {
  tag: { name: 'audit', description: 'Who changed what, when, and with which outcome.' },
  paths: {
    '/audit': {
      get: {
        operationId: 'listAuditEntries',
        summary: "The calling reseller's audit entries, newest first (resellers only)",
        tags: ['audit'],
        parameters: [
          { name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 1000 } },
        ],
        responses: {
          '200': jsonResponse('Entries', {
            type: 'object',
            required: ['entries'],
            properties: { entries: { type: 'array', items: { $ref: '#/components/schemas/AuditEntry' } } },
          }),
          '400': { $ref: '#/components/responses/BadRequest' },
          '401': { $ref: '#/components/responses/Unauthorized' },
          '403': { $ref: '#/components/responses/Forbidden' },
        },
      },
    },
  },
  schemas: {
    AuditEntry: {
      type: 'object',
      required: ['at', 'actor', 'action', 'target', 'outcome'],
      properties: {
        at: { type: 'string', format: 'date-time' },
        actor: { type: 'string', description: '`reseller:{id}/key:{keyId}`, `organization-user:{id}/key:{keyId}`, …' },
        action: { type: 'string', description: 'e.g. `organization.create`, `tenant.plan.change`' },
        target: { type: 'string' },
        outcome: { enum: ['succeeded', 'refused', 'failed'] },
        detail: { type: 'string' },
        resellerId: { type: 'string' },
      },
    },
  },
};
