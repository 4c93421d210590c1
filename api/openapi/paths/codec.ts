import { jsonBody, jsonResponse } from '../components';
import type { JsonSchema, OperationObject, PathsFragment } from '../types';

const payloads: JsonSchema = {
  type: 'object',
  required: ['payloads'],
  properties: {
    payloads: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          metadata: { type: 'object', additionalProperties: { type: 'string', contentEncoding: 'base64' } },
          data: { type: 'string', contentEncoding: 'base64' },
        },
      },
    },
  },
};

const codecOperation = (operationId: string, summary: string): OperationObject => ({
  operationId,
  summary,
  tags: ['codec'],
  security: [{ codecToken: [] }],
  parameters: [{ name: 'X-Namespace', in: 'header', required: false, schema: { type: 'string' } }],
  requestBody: jsonBody(payloads),
  responses: {
    '200': jsonResponse('The payloads, transformed', payloads),
    '400': { $ref: '#/components/responses/BadRequest' },
    '401': { $ref: '#/components/responses/Unauthorized' },
  },
});

/** Temporal's codec-server protocol, for the Web UI (operators only; API keys are not accepted here). */
export const codecPaths: PathsFragment = {
  tag: { name: 'codec', description: 'Codec server for the Temporal Web UI: decrypts payloads for operators.' },
  paths: {
    '/codec/decode': { post: codecOperation('codecDecode', 'Decrypt payloads') },
    '/codec/encode': { post: codecOperation('codecEncode', 'Encrypt payloads') },
    '/codec/login': {
      post: {
        operationId: 'codecLogin',
        'x-audit-action': 'codec.login',
        summary: 'Exchange the operator codec token for an HttpOnly session cookie the Web UI sends along',
        tags: ['codec'],
        security: [],
        requestBody: {
          required: true,
          content: {
            'application/x-www-form-urlencoded': {
              schema: { type: 'object', required: ['token'], properties: { token: { type: 'string' } } },
            },
          },
        },
        responses: {
          '200': { description: 'Signed in; the cookie is set' },
          '401': { $ref: '#/components/responses/Unauthorized' },
        },
      },
    },
  },
};
