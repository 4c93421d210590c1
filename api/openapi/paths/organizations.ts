import { jsonBody, jsonResponse } from '../components';
import type { PathsFragment } from '../types';

export const organizationPaths: PathsFragment = {
  tag: { name: 'organizations', description: "A reseller's customers; each owns tenants." },
  paths: {
    '/organizations': {
      post: {
        operationId: 'createOrganization',
        'x-audit-action': 'organization.create',
        summary: 'Create an organization (resellers only)',
        tags: ['organizations'],
        requestBody: jsonBody({
          type: 'object',
          additionalProperties: false,
          required: ['name'],
          properties: { name: { type: 'string', minLength: 1, maxLength: 200, pattern: '\\S' } },
        }),
        responses: {
          '201': {
            description: 'Created',
            headers: { Location: { schema: { type: 'string' } } },
            content: { 'application/json': { schema: { $ref: '#/components/schemas/Organization' } } },
          },
          '400': { $ref: '#/components/responses/BadRequest' },
          '401': { $ref: '#/components/responses/Unauthorized' },
          '403': { $ref: '#/components/responses/Forbidden' },
        },
      },
      get: {
        operationId: 'listOrganizations',
        summary: "The caller's organizations (an organization user sees its own only)",
        tags: ['organizations'],
        responses: {
          '200': jsonResponse('Organizations', {
            type: 'object',
            required: ['organizations'],
            properties: {
              organizations: { type: 'array', items: { $ref: '#/components/schemas/Organization' } },
            },
          }),
          '401': { $ref: '#/components/responses/Unauthorized' },
        },
      },
    },
    '/organizations/{organizationId}': {
      get: {
        operationId: 'getOrganization',
        summary: 'One organization; another reseller’s answers 404',
        tags: ['organizations'],
        parameters: [
          { name: 'organizationId', in: 'path', required: true, schema: { $ref: '#/components/schemas/Id' } },
        ],
        responses: {
          '200': jsonResponse('The organization', { $ref: '#/components/schemas/Organization' }),
          '400': { $ref: '#/components/responses/BadRequest' },
          '401': { $ref: '#/components/responses/Unauthorized' },
          '404': { $ref: '#/components/responses/NotFound' },
        },
      },
    },
  },
  schemas: {
    Organization: {
      type: 'object',
      required: ['id', 'resellerId', 'name', 'createdAt'],
      properties: {
        id: { $ref: '#/components/schemas/Id' },
        resellerId: { $ref: '#/components/schemas/Id' },
        name: { type: 'string' },
        createdAt: { type: 'string', format: 'date-time' },
      },
    },
  },
};
