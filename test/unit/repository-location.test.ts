import assert from 'node:assert/strict';
import { exportLocation, repositoryLocation, ReservedPrefixError } from '../../activities/backup/repositories';
import { locatedStorage } from '../../tenants/types';

const tenant = { tenantId: '0785ef7c-2d7a-4542-b048-95bcab406e0b', resellerId: 'rsl-a' };
const eu = { id: 'eu', displayName: 'Europe', region: 'europe-west1', bucket: 'eb-eu', kmsKeyName: 'projects/p/k' };

describe('a tenant’s repository location', () => {
  it('derives a located tenant’s prefix from its ids, in its location’s bucket', () => {
    const storage = locatedStorage(eu);
    assert.deepEqual(storage, {
      locationId: 'eu',
      bucket: 'eb-eu',
      region: 'europe-west1',
      kmsKeyName: 'projects/p/k',
    });
    assert.deepEqual(repositoryLocation({ ...tenant, storage }), {
      bucket: 'eb-eu',
      prefix: `resellers/rsl-a/tenants/${tenant.tenantId}/`,
      kmsKeyName: 'projects/p/k',
      legacy: false,
    });
    // A prefix smuggled into a record is never read: the prefix is derived.
    const smuggled = { ...storage, prefix: 'audit/' } as typeof storage;
    assert.equal(
      repositoryLocation({ ...tenant, storage: smuggled }).prefix,
      `resellers/rsl-a/tenants/${tenant.tenantId}/`,
    );
    assert.deepEqual(exportLocation({ ...tenant, storage }), {
      bucket: 'eb-eu',
      prefix: `exports/rsl-a/${tenant.tenantId}/`,
      kmsKeyName: 'projects/p/k',
    });
  });

  it('keeps a legacy tenant’s typed bucket and prefix, unless it reaches a reserved prefix', () => {
    const legacy = { bucket: 'typed', prefix: 'tenants/contoso', region: 'local' };
    assert.deepEqual(repositoryLocation({ ...tenant, storage: legacy }), {
      bucket: 'typed',
      prefix: 'tenants/contoso/',
      legacy: true,
    });
    for (const prefix of ['audit', 'audit/rsl-a', 'exports/x', 'resellers/rsl-b/tenants/t', '']) {
      assert.throws(
        () => repositoryLocation({ ...tenant, storage: { ...legacy, prefix } }),
        ReservedPrefixError,
        prefix,
      );
    }
  });
});
