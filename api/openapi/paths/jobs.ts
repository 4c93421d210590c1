import { jsonResponse } from '../components';
import type { PathsFragment } from '../types';

export const jobPaths: PathsFragment = {
  tag: {
    name: 'jobs',
    description:
      'System Status: onboarding (consent), backup, retention, export, verify and restore jobs with their progress.',
  },
  paths: {
    '/jobs': {
      get: {
        operationId: 'listJobs',
        summary: "The reseller's jobs, newest first; running backups carry live progress",
        tags: ['jobs'],
        parameters: [
          { name: 'tenantId', in: 'query', required: false, schema: { type: 'string', format: 'uuid' } },
          {
            name: 'kind',
            in: 'query',
            required: false,
            schema: { type: 'string', enum: ['onboarding', 'backup', 'retention', 'export', 'verify', 'restore'] },
          },
          {
            name: 'status',
            in: 'query',
            required: false,
            schema: { type: 'string', enum: ['running', 'completed', 'failed'] },
          },
          { name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 500 } },
        ],
        responses: {
          '200': jsonResponse('Jobs', {
            type: 'object',
            required: ['jobs'],
            properties: { jobs: { type: 'array', items: { $ref: '#/components/schemas/Job' } } },
          }),
          '400': { $ref: '#/components/responses/BadRequest' },
          '401': { $ref: '#/components/responses/Unauthorized' },
          '403': { $ref: '#/components/responses/Forbidden' },
        },
      },
    },
  },
  schemas: {
    Job: {
      type: 'object',
      required: ['workflowId', 'status', 'temporalStatus', 'startedAt'],
      properties: {
        workflowId: { type: 'string' },
        kind: {
          type: 'string',
          description:
            'onboarding: a tenant awaiting consent or reauthorization (running), or added in the last day and ' +
            'active (completed); the workflow is the tenant workflow',
        },
        tenantId: { type: 'string' },
        status: {
          type: 'string',
          description:
            "The job's own status while it runs; once closed, its final status, or the execution's (terminated, timed-out…) when the job could not set one",
        },
        reason: { type: 'string', description: 'Why a job failed, was cancelled or terminated, in words' },
        temporalStatus: { type: 'string' },
        startedAt: { type: 'string', format: 'date-time' },
        closedAt: { type: 'string', format: 'date-time' },
        expiresAt: { type: 'string', format: 'date-time', description: 'Onboarding: when the consent request expires' },
        progress: { type: 'object' },
      },
    },
  },
};
