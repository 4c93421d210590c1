import { jsonBody } from '../components';
import type { PathsFragment } from '../types';

const sessionResponse = {
  content: {
    'application/json': {
      schema: {
        type: 'object',
        required: ['principal'],
        properties: {
          principal: { type: 'object', description: 'kind (reseller or organization-user), resellerId, keyId' },
          expiresAt: { type: 'string', format: 'date-time' },
          csrfToken: {
            type: 'string',
            description: 'send as X-CSRF-Token on every state-changing request made with the session cookie',
          },
        },
      },
    },
  },
};

/** The portal's sign-in: an API key exchanged for an HttpOnly session cookie (api/portal/session-routes.ts). */
export const sessionPaths: PathsFragment = {
  tag: { name: 'session', description: 'Portal sign-in: the session cookie browsers use instead of an API key.' },
  paths: {
    '/session': {
      post: {
        operationId: 'signIn',
        'x-audit-action': 'session.create',
        summary: 'Exchange an API key for an HttpOnly, SameSite=Strict session cookie (8 hours by default)',
        tags: ['session'],
        security: [],
        requestBody: jsonBody({
          type: 'object',
          additionalProperties: false,
          required: ['apiKey'],
          properties: { apiKey: { type: 'string', minLength: 1, maxLength: 512 } },
        }),
        responses: {
          '201': { description: 'Signed in; the cookie is set', ...sessionResponse },
          '400': { $ref: '#/components/responses/BadRequest' },
          '401': { $ref: '#/components/responses/Unauthorized' },
        },
      },
      get: {
        operationId: 'getSession',
        summary: 'Who is signed in, and the session’s CSRF token',
        tags: ['session'],
        responses: {
          '200': { description: 'The session', ...sessionResponse },
          '401': { $ref: '#/components/responses/Unauthorized' },
        },
      },
      delete: {
        operationId: 'signOut',
        'x-audit-action': 'session.delete',
        summary: 'Sign out: the session cookie is cleared',
        tags: ['session'],
        responses: {
          '204': { description: 'Signed out' },
          '401': { $ref: '#/components/responses/Unauthorized' },
        },
      },
    },
  },
};
