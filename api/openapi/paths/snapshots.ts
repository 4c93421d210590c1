import { commonErrors, jsonResponse, problemResponse, uuidPathParam } from '../components';
import type { JsonSchema, ParameterObject, PathsFragment } from '../types';

const tenantId: ParameterObject = uuidPathParam('tenantId');
const snapshotId: ParameterObject = {
  name: 'snapshotId',
  in: 'path',
  required: true,
  schema: { $ref: '#/components/schemas/SnapshotId' },
};
const type: ParameterObject = {
  name: 'type',
  in: 'path',
  required: true,
  description: 'Catalog object type, e.g. `users`',
  schema: { type: 'string', pattern: '^[A-Za-z0-9]{1,64}$' },
};
const objectId: ParameterObject = {
  name: 'objectId',
  in: 'path',
  required: true,
  schema: { type: 'string', minLength: 1, maxLength: 256 },
};
const offset: ParameterObject = {
  name: 'offset',
  in: 'query',
  required: false,
  description: 'Items to skip; past the last item is 400',
  schema: { type: 'integer', minimum: 0, maximum: 10_000_000 },
};
const limit = (defaultLimit: number, maximum: number): ParameterObject => ({
  name: 'limit',
  in: 'query',
  required: false,
  schema: { type: 'integer', minimum: 1, maximum, default: defaultLimit },
});

const json = (schema: JsonSchema, description: string) => jsonResponse(description, schema);
const errors = {
  ...commonErrors,
  '500': problemResponse(
    'Stored backup data failed its integrity check (`type` `urn:entra-backup:problem:integrity`); `object` and ' +
      '`pack` name what is damaged. Nothing unverified is returned.',
  ),
};

/**
 * Browse and compare a tenant's backups: the routes of `api/routes/snapshots.ts`. A snapshot that retention has
 * forgotten is 404 like an unknown one.
 */
export const snapshotPaths: PathsFragment = {
  tag: { name: 'snapshots', description: "A tenant's backups: browse what was captured, compare any two." },
  paths: {
    '/tenants/{tenantId}/snapshots': {
      get: {
        operationId: 'listSnapshots',
        summary: 'Snapshots, newest first: time, completeness, counts, coverage, hash-chain verification',
        tags: ['snapshots'],
        parameters: [tenantId, offset, limit(20, 200)],
        responses: {
          '200': json(
            {
              type: 'object',
              required: ['total', 'offset', 'limit', 'chain', 'snapshots'],
              properties: {
                total: { type: 'integer' },
                offset: { type: 'integer' },
                limit: { type: 'integer' },
                chain: {
                  type: 'object',
                  properties: { ok: { type: 'boolean' }, problems: { type: 'array', items: { type: 'string' } } },
                },
                snapshots: { type: 'array', items: { $ref: '#/components/schemas/SnapshotSummary' } },
              },
            },
            'A page of snapshots',
          ),
          ...errors,
        },
      },
    },
    '/tenants/{tenantId}/snapshots/{snapshotId}': {
      get: {
        operationId: 'getSnapshot',
        summary: 'One snapshot',
        tags: ['snapshots'],
        parameters: [tenantId, snapshotId],
        responses: { '200': json({ $ref: '#/components/schemas/SnapshotSummary' }, 'The snapshot'), ...errors },
      },
    },
    '/tenants/{tenantId}/snapshots/{snapshotId}/types': {
      get: {
        operationId: 'listSnapshotTypes',
        summary: 'The object types of a snapshot with their counts, or why a type was skipped',
        tags: ['snapshots'],
        parameters: [tenantId, snapshotId],
        responses: {
          '200': json(
            {
              type: 'object',
              required: ['snapshotId', 'types'],
              properties: {
                snapshotId: { type: 'string' },
                startedAt: { type: 'string' },
                types: {
                  type: 'array',
                  items: {
                    type: 'object',
                    required: ['type', 'status', 'count'],
                    properties: {
                      type: { type: 'string' },
                      label: { type: 'string' },
                      status: { type: 'string', enum: ['captured', 'skipped'] },
                      count: { type: 'integer' },
                      softDeleted: { type: 'integer' },
                      readMode: {
                        type: 'string',
                        enum: ['full', 'delta'],
                        description: 'a full read of the type, or only the changes since the previous snapshot',
                      },
                      relationships: {
                        type: 'object',
                        description:
                          "how the type's relationships were made current: methods (relationship → full-read, delta or " +
                          'audit-log), reread (objects the directory audit log named), fallback and detail (why they ' +
                          'were read in full although the audit log would have served)',
                        required: ['methods'],
                        properties: {
                          methods: {
                            type: 'object',
                            additionalProperties: { type: 'string', enum: ['full-read', 'delta', 'audit-log'] },
                          },
                          reread: { type: 'integer' },
                          fallback: {
                            type: 'string',
                            enum: [
                              'audit-log-permission-missing',
                              'audit-log-retention-exceeded',
                              'audit-log-error',
                              'no-audit-start',
                            ],
                          },
                          detail: { type: 'string' },
                        },
                      },
                      reason: { type: 'string' },
                      detail: { type: 'string' },
                    },
                  },
                },
              },
            },
            'Types',
          ),
          ...errors,
        },
      },
    },
    '/tenants/{tenantId}/snapshots/{snapshotId}/types/{type}/objects': {
      get: {
        operationId: 'listSnapshotObjects',
        summary: 'Objects of one type in a snapshot, by id, paged; searchable by prefix',
        description:
          'A page reads the manifest and only the packs that hold the page’s objects. `search` matches, by prefix and ' +
          'case-insensitively, the id, the display name and the type’s search properties (users: UPN and mail; ' +
          'groups: mail; applications and service principals: appId).',
        tags: ['snapshots'],
        parameters: [
          tenantId,
          snapshotId,
          type,
          offset,
          limit(50, 500),
          { name: 'search', in: 'query', required: false, schema: { type: 'string', minLength: 1, maxLength: 256 } },
        ],
        responses: {
          '200': json(
            {
              type: 'object',
              required: ['total', 'offset', 'limit', 'objects'],
              properties: {
                snapshotId: { type: 'string' },
                type: { type: 'string' },
                total: { type: 'integer' },
                offset: { type: 'integer' },
                limit: { type: 'integer' },
                search: { type: 'string' },
                objects: {
                  type: 'array',
                  items: {
                    type: 'object',
                    required: ['id', 'state'],
                    properties: {
                      id: { type: 'string' },
                      displayName: { type: ['string', 'null'] },
                      state: { $ref: '#/components/schemas/ObjectState' },
                      properties: { type: 'object' },
                    },
                  },
                },
              },
            },
            'A page of objects',
          ),
          ...errors,
        },
      },
    },
    '/tenants/{tenantId}/snapshots/{snapshotId}/types/{type}/objects/{objectId}': {
      get: {
        operationId: 'getSnapshotObject',
        summary: 'One object as captured, its relationships (named) and its version history',
        description:
          '`history` lists, newest first, the kept snapshots in which the object was created, changed (content or ' +
          'relationships), moved to or restored from the recycle bin, or deleted. Relationships list at most 1,000 ' +
          'items each (`count` is the full number).',
        tags: ['snapshots'],
        parameters: [tenantId, snapshotId, type, objectId],
        responses: {
          '200': json(
            {
              type: 'object',
              required: ['id', 'type', 'state', 'object', 'relationships', 'history'],
              properties: {
                snapshotId: { type: 'string' },
                type: { type: 'string' },
                id: { type: 'string' },
                displayName: { type: ['string', 'null'] },
                state: { $ref: '#/components/schemas/ObjectState' },
                contentHash: { type: 'string' },
                object: { type: 'object', description: 'The object as Graph returned it' },
                relationships: { type: 'object' },
                history: { type: 'array', items: { type: 'object' } },
              },
            },
            'The object',
          ),
          ...errors,
        },
      },
    },
    '/tenants/{tenantId}/diff': {
      get: {
        operationId: 'diffSnapshots',
        summary: 'What changed between any two snapshots (JSON, or text with format=text or Accept: text/plain)',
        description:
          'Per type: objects added, removed (`deletion`: `soft` = in the recycle bin, `hard` = gone), restored from ' +
          'the recycle bin, and changed, with attribute changes (old → new by dotted path; unordered arrays as sets ' +
          'of items added and removed) and relationship changes (items added and removed, named). Swapping `from` ' +
          'and `to` gives the inverse.',
        tags: ['snapshots'],
        parameters: [
          tenantId,
          { name: 'from', in: 'query', required: true, schema: { $ref: '#/components/schemas/SnapshotId' } },
          { name: 'to', in: 'query', required: true, schema: { $ref: '#/components/schemas/SnapshotId' } },
          { name: 'type', in: 'query', required: false, schema: { type: 'string', pattern: '^[A-Za-z0-9]{1,64}$' } },
          { name: 'objectId', in: 'query', required: false, schema: { type: 'string', minLength: 1, maxLength: 256 } },
          { name: 'format', in: 'query', required: false, schema: { type: 'string', enum: ['json', 'text'] } },
        ],
        responses: {
          '200': {
            description: 'The difference',
            content: {
              'application/json': { schema: { type: 'object', required: ['from', 'to', 'summary', 'types'] } },
              'text/plain': { schema: { type: 'string' } },
            },
          },
          ...errors,
        },
      },
    },
  },
  schemas: {
    SnapshotId: { type: 'string', pattern: '^[0-9a-f]{64}$' },
    ObjectState: { type: 'string', enum: ['present', 'in-recycle-bin'] },
    SnapshotSummary: {
      type: 'object',
      required: ['id', 'startedAt', 'finishedAt', 'complete', 'counts', 'coverage', 'chainVerified'],
      properties: {
        id: { type: 'string' },
        startedAt: { type: 'string', format: 'date-time' },
        finishedAt: { type: 'string', format: 'date-time' },
        complete: { type: 'boolean', description: 'false when a type was skipped (see coverage)' },
        counts: { type: 'object', description: 'type → { count, softDeleted }' },
        coverage: { type: 'object', description: 'type → captured with counts, or skipped with its reason' },
        chainVerified: { type: 'boolean', description: 'the record is a verified link of the snapshot hash chain' },
      },
    },
  },
};
