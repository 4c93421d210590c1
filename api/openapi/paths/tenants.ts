import { commonErrors, jsonBody, jsonResponse, uuidPathParam } from '../components';
import type { PathsFragment } from '../types';

const tenantIdParam = uuidPathParam('tenantId');

const tenantResponse = { content: { 'application/json': { schema: { $ref: '#/components/schemas/Tenant' } } } };
const errors = commonErrors;
const consentRequestResponse = jsonResponse(
  'Open consentUrl in a browser as a tenant admin; the request expires at expiresAt',
  {
    type: 'object',
    required: ['consentUrl', 'expiresAt'],
    properties: { consentUrl: { type: 'string' }, expiresAt: { type: 'string', format: 'date-time' } },
  },
);

/** What a tenant and a tenant list entry both carry (`Tenant`, `TenantListItem`). */
const tenantRequired = ['tenantId', 'organizationId', 'directory', 'plan', 'status', 'backupApp', 'restoreApp'];
const tenantIds = {
  tenantId: { type: 'string' },
  organizationId: { type: 'string' },
  directory: { type: 'string' },
};

/**
 * Tenants, consent and plans: the routes of `api/routes/tenants.ts` and `api/routes/consent-callback.ts`. The consent
 * callback is public (`security: []`): Microsoft redirects an admin's browser there; its signed `state` is the proof.
 */
export const tenantPaths: PathsFragment = {
  tag: { name: 'tenants', description: "An organization's Microsoft Entra tenants, their consent and plan." },
  paths: {
    '/tenants': {
      post: {
        operationId: 'createTenant',
        'x-audit-action': 'tenant.create',
        summary: 'Add a customer tenant under one of the reseller’s organizations',
        tags: ['tenants'],
        requestBody: jsonBody({
          type: 'object',
          additionalProperties: false,
          required: ['organizationId', 'directory', 'storageLocationId', 'plan'],
          properties: {
            organizationId: { $ref: '#/components/schemas/Id' },
            directory: {
              type: 'string',
              minLength: 1,
              maxLength: 253,
              description: 'Microsoft tenant id (GUID) or a verified domain',
            },
            storageLocationId: {
              type: 'string',
              minLength: 1,
              maxLength: 63,
              description: 'One of GET /storage-locations; the service derives the bucket and prefix',
            },
            storage: {
              description: 'Refused: a bucket and prefix are never chosen by the caller',
              'x-refused':
                'is not accepted: the service chooses the bucket and prefix; name a storage location ' +
                'as storageLocationId (GET /storage-locations)',
            },
            plan: { $ref: '#/components/schemas/Plan' },
            backupImmediately: { type: 'boolean', default: false },
          },
        }),
        responses: { '201': { description: 'Created', ...tenantResponse }, ...errors },
      },
      get: {
        operationId: 'listTenants',
        summary: 'One page of the reseller’s tenants, newest first, filtered and searched',
        description:
          'Read from the list entry each tenant workflow keeps in its memo, filtered and searched on its search ' +
          'attributes: a page answers from one visibility list, whatever the number of tenants and the filters. ' +
          'Pass `nextCursor` back as `cursor` for the next page.',
        tags: ['tenants'],
        parameters: [
          { name: 'organizationId', in: 'query', required: false, schema: { $ref: '#/components/schemas/Id' } },
          {
            name: 'status',
            in: 'query',
            required: false,
            schema: { type: 'string', enum: ['awaiting-consent', 'active', 'reauthorization-required'] },
          },
          { name: 'plan', in: 'query', required: false, schema: { $ref: '#/components/schemas/Plan' } },
          {
            name: 'lastBackup',
            in: 'query',
            required: false,
            description: 'result of the last backup; `none` when there was none yet',
            schema: { type: 'string', enum: ['none', 'running', 'completed', 'incomplete', 'failed'] },
          },
          {
            name: 'search',
            in: 'query',
            required: false,
            description: 'the start of the display name or of the domain, case-insensitive',
            schema: { type: 'string', maxLength: 253, pattern: '^[^\'"\\\\]*$' },
          },
          {
            name: 'pageSize',
            in: 'query',
            required: false,
            schema: { type: 'integer', minimum: 1, maximum: 200, default: 50 },
          },
          { name: 'cursor', in: 'query', required: false, schema: { type: 'string', maxLength: 2048 } },
        ],
        responses: {
          '200': jsonResponse('A page of tenants', {
            type: 'object',
            required: ['tenants', 'total'],
            properties: {
              tenants: { type: 'array', items: { $ref: '#/components/schemas/TenantListItem' } },
              total: { type: 'integer', description: 'tenants matching the filters, over all pages' },
              nextCursor: { type: 'string', description: 'absent on the last page' },
            },
          }),
          ...errors,
        },
      },
    },
    '/tenants/{tenantId}': {
      get: {
        operationId: 'getTenant',
        summary: 'A tenant with its consent state, plan and last backup',
        tags: ['tenants'],
        parameters: [tenantIdParam],
        responses: { '200': { description: 'The tenant', ...tenantResponse }, ...errors },
      },
    },
    '/tenants/{tenantId}/plan': {
      put: {
        operationId: 'changeTenantPlan',
        'x-audit-action': 'tenant.plan.change',
        summary: 'Change the plan; Archiver can never be downgraded (409)',
        tags: ['tenants'],
        parameters: [tenantIdParam],
        requestBody: jsonBody({
          type: 'object',
          additionalProperties: false,
          required: ['plan'],
          properties: { plan: { $ref: '#/components/schemas/Plan' } },
        }),
        responses: {
          '200': { description: 'The tenant', ...tenantResponse },
          '409': { $ref: '#/components/responses/Conflict' },
          ...errors,
        },
      },
    },
    '/tenants/{tenantId}/consent-requests': {
      post: {
        operationId: 'requestConsent',
        'x-audit-action': 'tenant.consent.request',
        summary: 'Microsoft admin-consent URL for the Backup app, or the Restore app (permanent or one restore)',
        tags: ['tenants'],
        parameters: [tenantIdParam],
        requestBody: jsonBody({
          type: 'object',
          additionalProperties: false,
          required: ['app'],
          properties: {
            app: { type: 'string', enum: ['backup', 'restore'] },
            mode: { type: 'string', enum: ['permanent', 'one-time'] },
          },
        }),
        responses: { '201': consentRequestResponse, ...errors },
      },
    },
    '/tenants/{tenantId}/reauthorize': {
      post: {
        operationId: 'reauthorizeTenant',
        'x-audit-action': 'tenant.reauthorize',
        summary: '"Update now": a fresh Backup app consent request; the schedule resumes once it is verified',
        tags: ['tenants'],
        parameters: [tenantIdParam],
        responses: { '201': consentRequestResponse, ...errors },
      },
    },
    '/tenants/{tenantId}/backups': {
      post: {
        operationId: 'backupNow',
        'x-audit-action': 'tenant.backup-now',
        summary: 'Backup now: the running backup (200) or a newly started one (202)',
        tags: ['tenants'],
        parameters: [tenantIdParam],
        responses: {
          '200': { description: 'A backup was already running' },
          '202': { description: 'Backup started' },
          '409': { $ref: '#/components/responses/Conflict' },
          ...errors,
        },
      },
    },
    '/consent/callback': {
      get: {
        operationId: 'consentCallback',
        'x-audit-action': 'consent.callback',
        summary: 'Where Microsoft’s admin-consent flow returns; verified by the signed, single-use state',
        tags: ['tenants'],
        security: [],
        parameters: [
          { name: 'state', in: 'query', required: true, schema: { type: 'string', maxLength: 2048 } },
          { name: 'admin_consent', in: 'query', required: false, schema: { type: 'string' } },
          { name: 'tenant', in: 'query', required: false, schema: { type: 'string' } },
          { name: 'scope', in: 'query', required: false, schema: { type: 'string' } },
          { name: 'error', in: 'query', required: false, schema: { type: 'string' } },
          { name: 'error_description', in: 'query', required: false, schema: { type: 'string' } },
          { name: 'error_uri', in: 'query', required: false, schema: { type: 'string' } },
        ],
        responses: {
          '200': { description: 'Consent answer recorded' },
          '400': { $ref: '#/components/responses/BadRequest' },
        },
      },
    },
  },
  schemas: {
    Plan: { type: 'string', enum: ['backup', 'archiver'] },
    TenantStorage: {
      type: 'object',
      description:
        'Where the tenant is kept: its storage location (id and region); tenants added before storage locations ' +
        'show the bucket and prefix they were created with (`legacy: true`)',
      properties: {
        locationId: { type: 'string' },
        region: { type: 'string' },
        bucket: { type: 'string' },
        prefix: { type: 'string' },
        legacy: { type: 'boolean' },
      },
    },
    Tenant: {
      type: 'object',
      required: tenantRequired,
      properties: {
        ...tenantIds,
        microsoftTenantId: { type: 'string' },
        plan: { $ref: '#/components/schemas/Plan' },
        storage: { $ref: '#/components/schemas/TenantStorage' },
        status: { type: 'string', enum: ['awaiting-consent', 'active', 'reauthorization-required', 'backups-failing'] },
        reauthorizationRequired: { type: 'boolean' },
        backupApp: { type: 'object' },
        restoreApp: { type: 'object' },
        schedulePaused: { type: 'boolean' },
        lastBackup: { type: 'object' },
      },
    },
    TenantListItem: {
      type: 'object',
      required: tenantRequired,
      properties: {
        ...tenantIds,
        displayName: { type: 'string' },
        plan: { $ref: '#/components/schemas/Plan' },
        status: { type: 'string', enum: ['awaiting-consent', 'active', 'reauthorization-required'] },
        reauthorizationRequired: { type: 'boolean' },
        reason: { type: 'string', description: 'why reauthorization is required' },
        storageRegion: { type: 'string' },
        backupApp: { type: 'object' },
        restoreApp: { type: 'object', description: 'state and mode (none, permanent, one-time)' },
        lastBackup: { type: 'object', description: 'status, at, skippedTypes, detail' },
        nextBackupAt: { type: 'string', format: 'date-time' },
        createdAt: { type: 'string', format: 'date-time' },
      },
    },
  },
};
