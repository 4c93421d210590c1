import { jsonResponse } from '../components';
import type { PathsFragment } from '../types';

/** The operator's storage locations (STORAGE_LOCATIONS): what `POST /tenants` accepts as `storageLocationId`. */
export const storageLocationPaths: PathsFragment = {
  tag: { name: 'storage-locations', description: 'Where tenants’ backups can be kept, as the operator offers them.' },
  paths: {
    '/storage-locations': {
      get: {
        operationId: 'listStorageLocations',
        summary: 'The storage locations a tenant can be added in; resellers only',
        tags: ['storage-locations'],
        responses: {
          '200': jsonResponse('Storage locations', {
            type: 'object',
            required: ['locations'],
            properties: {
              locations: { type: 'array', items: { $ref: '#/components/schemas/StorageLocationOption' } },
            },
          }),
          '401': { $ref: '#/components/responses/Unauthorized' },
          '403': { $ref: '#/components/responses/Forbidden' },
        },
      },
    },
  },
  schemas: {
    StorageLocationOption: {
      type: 'object',
      required: ['id', 'displayName', 'region'],
      properties: {
        id: { type: 'string', description: 'What POST /tenants names as storageLocationId' },
        displayName: { type: 'string' },
        region: { type: 'string', description: 'Where the data is kept, e.g. europe-west1' },
      },
    },
  },
};
