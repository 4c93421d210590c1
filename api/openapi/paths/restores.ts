import { commonErrors, jsonBody, jsonResponse, uuidPathParam } from '../components';
import type { PathsFragment } from '../types';

const tenantIdParam = uuidPathParam('tenantId');
const restoreIdParam = uuidPathParam('restoreId');
const errors = commonErrors;
const conflict = { '409': { $ref: '#/components/responses/Conflict' } };

const restoreState = {
  type: 'object',
  required: ['restoreId', 'tenantId', 'snapshotId', 'status', 'consent'],
  properties: {
    restoreId: { type: 'string', format: 'uuid' },
    tenantId: { type: 'string', format: 'uuid' },
    snapshotId: { type: 'string' },
    status: {
      type: 'string',
      enum: [
        'awaiting-consent',
        'planning',
        'awaiting-confirmation',
        'applying',
        'verifying',
        'completed',
        'partly-completed',
        'failed',
        'expired',
        'refused',
        'cancelled',
      ],
      description:
        'awaiting-consent: an admin must open consent.consentUrl (one-time Restore consent); awaiting-confirmation: ' +
        'confirm plan.hash before plan.expiresAt (or cancel it); refused: no Restore consent, nothing changed; ' +
        'cancelled: the plan was cancelled instead of confirmed, nothing changed',
    },
    detail: { type: 'string' },
    consent: {
      type: 'object',
      properties: {
        mode: { type: 'string', enum: ['permanent', 'one-time'] },
        state: { type: 'string', enum: ['pending', 'granted', 'used', 'revoked'] },
        consentUrl: { type: 'string' },
      },
    },
    plan: {
      type: 'object',
      description: 'Where the plan is stored, its hash (to confirm) and counts; planDetail holds the plan itself',
      properties: {
        key: { type: 'string' },
        hash: { type: 'string' },
        expiresAt: { type: 'string', format: 'date-time' },
        counts: { type: 'object', additionalProperties: { type: 'integer' } },
      },
    },
    planDetail: {
      type: 'object',
      description:
        'Per object: unchanged / update / restore-from-recycle-bin / recreate / impossible (with reason), attributes ' +
        '(current → restored), relationships to add and remove; remaps: live policies whose references are rewritten; ' +
        'memberships: member adds on groups and administrative units outside the request that held a requested ' +
        'object; appRoleAssignments: app-role assignments of requested principals or resources to create; ' +
        'roleAssignments: directory role assignments of requested principals or AU scopes to create or remove ' +
        '(principalId, roleDefinitionId, directoryScopeId as in the snapshot, remapped when applied); ' +
        'scopedRoleMembers: scoped role members of requested administrative units or members to create or remove',
    },
    report: { type: 'object', description: 'Counts of the read-back verification and fidelity' },
    reportDetail: {
      type: 'object',
      description:
        'Per object restored / partly-restored (differences with why) / failed; idMapping (old → new id of re-created ' +
        'objects); secretsToReissue; temporaryPasswordUsers',
    },
    confirmedBy: { type: 'string' },
    confirmedAt: { type: 'string', format: 'date-time' },
    cancelledBy: { type: 'string' },
    cancelledAt: { type: 'string', format: 'date-time' },
    requestedBy: { type: 'string' },
    startedAt: { type: 'string', format: 'date-time' },
    finishedAt: { type: 'string', format: 'date-time' },
  },
};
const stateResponse = jsonResponse('The restore as it stands', restoreState);

/** Object-level restore: the routes of `api/routes/restores.ts`. */
export const restorePaths: PathsFragment = {
  tag: {
    name: 'restores',
    description:
      'Object-level restore with the Restore app: a plan against the live tenant, an explicit confirmation of its ' +
      'hash, then writes in dependency order and a read-back report. One restore per tenant at a time.',
  },
  paths: {
    '/tenants/{tenantId}/restores': {
      post: {
        operationId: 'requestRestore',
        'x-audit-action': 'restore.request',
        summary: 'Plan a restore of objects of a snapshot (nothing is written until the plan is confirmed)',
        description:
          'Without permanent Restore consent the restore asks for a one-time consent (consent.consentUrl). A second ' +
          'restore while one runs for the tenant is refused with 409, not queued.',
        tags: ['restores'],
        parameters: [tenantIdParam],
        requestBody: jsonBody({
          type: 'object',
          additionalProperties: false,
          required: ['snapshotId', 'objects'],
          properties: {
            snapshotId: { type: 'string', minLength: 1, maxLength: 200 },
            objects: {
              type: 'array',
              minItems: 1,
              maxItems: 500,
              items: {
                type: 'object',
                additionalProperties: false,
                required: ['type', 'id'],
                properties: {
                  type: { type: 'string', minLength: 1, maxLength: 100 },
                  id: { type: 'string', minLength: 1, maxLength: 200 },
                },
              },
            },
            conditionalAccessState: {
              type: 'string',
              enum: ['report-only', 'as-captured'],
              description: 'CA policies come back report-only unless as-captured is asked for',
            },
            confirmationTimeoutSeconds: {
              type: 'integer',
              minimum: 1,
              maximum: 604800,
              description: 'How long the plan waits for its confirmation (default 3600)',
            },
          },
        }),
        responses: { '202': stateResponse, ...errors, ...conflict },
      },
    },
    '/tenants/{tenantId}/restores/{restoreId}': {
      get: {
        operationId: 'getRestore',
        summary: 'A restore: status, consent, plan (with planDetail) and report (with reportDetail)',
        tags: ['restores'],
        parameters: [tenantIdParam, restoreIdParam],
        responses: { '200': stateResponse, ...errors },
      },
    },
    '/tenants/{tenantId}/restores/{restoreId}/confirmation': {
      post: {
        operationId: 'confirmRestore',
        'x-audit-action': 'restore.confirm',
        summary: 'Confirm a restore plan by its hash; a stale hash is refused (409)',
        tags: ['restores'],
        parameters: [tenantIdParam, restoreIdParam],
        requestBody: jsonBody({
          type: 'object',
          additionalProperties: false,
          required: ['planHash'],
          properties: { planHash: { type: 'string', pattern: '^[0-9a-f]{64}$' } },
        }),
        responses: { '202': stateResponse, ...errors, ...conflict },
      },
    },
    '/tenants/{tenantId}/restores/{restoreId}/cancellation': {
      post: {
        operationId: 'cancelRestore',
        'x-audit-action': 'restore.cancel',
        summary: 'Cancel a plan waiting for its confirmation: the restore ends as cancelled, nothing is written',
        description:
          'Idempotent: cancelling a cancelled restore answers it again (200). A restore that is not waiting for its ' +
          'confirmation (still planning or awaiting consent, already confirmed, ended) is refused with 409.',
        tags: ['restores'],
        parameters: [tenantIdParam, restoreIdParam],
        responses: { '200': stateResponse, ...errors, ...conflict },
      },
    },
  },
};
