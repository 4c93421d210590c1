import { jsonResponse } from '../components';
import type { PathsFragment } from '../types';

export const healthPaths: PathsFragment = {
  tag: { name: 'operations', description: 'Health and diagnostics of the deployment.' },
  paths: {
    '/healthz': {
      get: {
        operationId: 'getHealth',
        summary: 'Temporal and storage both answer',
        tags: ['operations'],
        security: [],
        responses: {
          '200': jsonResponse('Healthy', { type: 'object' }),
          '503': {
            description: 'Temporal or storage does not answer; `failing` names which',
            content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
          },
        },
      },
    },
    '/metrics': {
      get: {
        operationId: 'getMetrics',
        summary:
          'Prometheus metrics of this API process (README "Observability"); no tenant or reseller id in any series',
        tags: ['operations'],
        security: [],
        responses: {
          '200': {
            description: 'Prometheus text exposition',
            content: { 'text/plain': { schema: { type: 'string' } } },
          },
        },
      },
    },
    '/openapi.json': {
      get: {
        operationId: 'getOpenApiDocument',
        summary: 'This document',
        tags: ['operations'],
        responses: {
          '200': jsonResponse('OpenAPI 3.1', { type: 'object' }),
          '401': { $ref: '#/components/responses/Unauthorized' },
        },
      },
    },
  },
};
