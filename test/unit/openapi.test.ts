import assert from 'node:assert/strict';
import type { Request } from 'express';
import { buildOpenApiDocument } from '../../api/openapi/document';
import { RequestValidator } from '../../api/openapi/validator';
import { pathFragments } from '../../api/openapi/paths';
import { ProblemError } from '../../api/problem';
import type { PathsFragment } from '../../api/openapi/types';

function run(validator: RequestValidator, req: Partial<Request>): ProblemError | undefined {
  try {
    validator.validateRequest({ query: {}, ...req } as Request, {} as never, () => {});
    return undefined;
  } catch (err) {
    return err as ProblemError;
  }
}

describe('OpenAPI document and request validation', () => {
  const document = buildOpenApiDocument();
  const validator = new RequestValidator(document);

  it('merges every fragment and declares /healthz public', () => {
    assert.equal(document.openapi, '3.1.0');
    assert.deepEqual(document.paths['/healthz'].get?.security, []);
    assert.ok(validator.operations.find('GET', '/healthz')?.isPublic);
    assert.equal(validator.operations.find('POST', '/organizations')?.isPublic, false);
    assert.equal(validator.operations.find('GET', '/organizations/org-1')?.pathParams.organizationId, 'org-1');
  });

  it('names every field at fault', () => {
    const err = run(validator, { method: 'POST', path: '/organizations', body: { name: '', extra: true } });
    assert.equal(err?.problem.status, 400);
    assert.deepEqual([...new Set(err?.problem.errors?.map((e) => e.field))].sort(), ['body.extra', 'body.name']);
    assert.equal(run(validator, { method: 'POST', path: '/organizations', body: { name: 'Contoso' } }), undefined);
    const probe = run(validator, {
      method: 'POST',
      path: '/diagnostics/storage-probes',
      body: { holdSeconds: 'soon' },
    });
    assert.equal(probe?.problem.errors?.[0].field, 'body.holdSeconds');
  });

  it('refuses a tenant body that names a bucket and prefix, pointing to storageLocationId', () => {
    const tenant = { organizationId: 'org-1', directory: 'contoso.example', plan: 'backup' };
    const err = run(validator, {
      method: 'POST',
      path: '/tenants',
      body: { ...tenant, storage: { bucket: 'b', prefix: 'resellers/other', region: 'r' } },
    });
    assert.equal(err?.problem.status, 400);
    const errors = err?.problem.errors ?? [];
    assert.deepEqual(errors.map((e) => e.field).sort(), ['body.storage', 'body.storageLocationId']);
    assert.match(
      errors.find((e) => e.field === 'body.storage')!.message,
      /name a storage location as storageLocationId/,
    );
    // Named together with a location id, the bucket and prefix are still refused.
    const both = run(validator, {
      method: 'POST',
      path: '/tenants',
      body: { ...tenant, storageLocationId: 'default', storage: { bucket: 'b', prefix: 'p', region: 'r' } },
    });
    assert.deepEqual(
      both?.problem.errors?.map((e) => e.field),
      ['body.storage'],
    );
    assert.match(both!.problem.detail!, /storageLocationId/);
    assert.equal(
      run(validator, { method: 'POST', path: '/tenants', body: { ...tenant, storageLocationId: 'x' } }),
      undefined,
    );
  });

  it('adding a route is adding an entry to a fragment', () => {
    const extra: PathsFragment = {
      tag: { name: 'tenants', description: 't' },
      paths: {
        '/organizations/{organizationId}/tenants': {
          post: {
            operationId: 'createTenant',
            summary: 'x',
            parameters: [
              { name: 'organizationId', in: 'path', required: true, schema: { $ref: '#/components/schemas/Id' } },
            ],
            requestBody: {
              required: true,
              content: {
                'application/json': {
                  schema: {
                    type: 'object',
                    required: ['tenantId'],
                    properties: { tenantId: { type: 'string', format: 'uuid' } },
                  },
                },
              },
            },
            responses: { '201': { description: 'created' } },
          },
        },
      },
    };
    const v = new RequestValidator(buildOpenApiDocument([...pathFragments, extra]));
    const err = run(v, { method: 'POST', path: '/organizations/org-1/tenants', body: { tenantId: 'not-a-guid' } });
    assert.deepEqual(err?.problem.errors, [{ field: 'body.tenantId', message: 'must match format "uuid"' }]);
    assert.throws(() => buildOpenApiDocument([...pathFragments, extra, extra]), /defined twice/);
  });
});
