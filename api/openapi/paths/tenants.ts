import type { PathsFragment } from '../types';

/**
 * Tenants, consent and plans (issue 5): the routes of `api/routes/tenants.ts` and `api/routes/consent.ts` are
 * described here. Every path added below is served in `/openapi.json` and its request is validated before the handler
 * runs; `security: []` on an operation makes it public (e.g. the consent callback Microsoft redirects to).
 */
export const tenantPaths: PathsFragment = {
  tag: { name: 'tenants', description: "An organization's Microsoft Entra tenants, their consent and plan." },
  paths: {},
  schemas: {},
};
