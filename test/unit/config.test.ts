import assert from 'node:assert/strict';
import { msToNumber } from '@temporalio/common/lib/time';
import { loadConfig } from '../../temporal.config';
import { backupSchedule, tenantTiming } from '../../workflow-constants';

describe('temporal.config loadConfig', () => {
  it('defaults to the local stack', () => {
    const c = loadConfig({});
    assert.equal(c.temporal.address, '127.0.0.1:7233');
    assert.equal(c.temporal.namespace, 'default');
    assert.equal(c.temporal.tls, undefined);
    assert.equal(c.storage.apiEndpoint, 'http://127.0.0.1:4443');
    assert.equal(c.temporal.webUiUrl, 'http://127.0.0.1:8233');
  });

  it('follows the local ports when they are moved', () => {
    const c = loadConfig({ LOCAL_TEMPORAL_PORT: '17233', LOCAL_GCS_PORT: '14443', LOCAL_TEMPORAL_UI_PORT: '18233' });
    assert.equal(c.temporal.address, '127.0.0.1:17233');
    assert.equal(c.storage.apiEndpoint, 'http://127.0.0.1:14443');
    assert.equal(c.temporal.webUiUrl, 'http://127.0.0.1:18233');
  });

  it('targets Temporal Cloud and Google Cloud Storage from the environment', () => {
    const c = loadConfig({
      TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233',
      TEMPORAL_NAMESPACE: 'ns.acct',
      TEMPORAL_API_KEY: 'k',
      STORAGE_API_ENDPOINT: 'gcs',
      STORAGE_PROJECT_ID: 'prod',
    });
    assert.equal(c.temporal.address, 'ns.acct.tmprl.cloud:7233');
    assert.equal(c.temporal.apiKey, 'k');
    assert.equal(c.storage.apiEndpoint, undefined);
    assert.equal(c.storage.projectId, 'prod');
  });

  it('turns on mTLS when a client certificate is named', () => {
    const c = loadConfig({ TEMPORAL_TLS_CERT: '/c.pem', TEMPORAL_TLS_KEY: '/k.pem' });
    assert.deepEqual(c.temporal.tls, {
      certPath: '/c.pem',
      keyPath: '/k.pem',
      caPath: undefined,
      serverName: undefined,
    });
  });

  it('bounds every storage and Graph request, 120 s unless configured', () => {
    assert.equal(loadConfig({}).storage.requestTimeoutMs, 120_000);
    assert.equal(loadConfig({}).entra.graphRequestTimeoutMs, 120_000);
    const c = loadConfig({ STORAGE_REQUEST_TIMEOUT_SECONDS: '15', GRAPH_REQUEST_TIMEOUT_SECONDS: '30' });
    assert.equal(c.storage.requestTimeoutMs, 15_000);
    assert.equal(c.entra.graphRequestTimeoutMs, 30_000);
  });

  it('offers one storage location on the default bucket unless STORAGE_LOCATIONS names others', () => {
    assert.deepEqual(loadConfig({ STORAGE_DEFAULT_BUCKET: 'eb-main' }).storage.locations, [
      { id: 'default', displayName: 'Default', region: 'local', bucket: 'eb-main' },
    ]);
    const eu = { id: 'eu', displayName: 'Europe', region: 'europe-west1', bucket: 'eb-eu', kmsKeyName: 'projects/p/k' };
    const us = { id: 'us', displayName: 'US', region: 'us-east1', bucket: 'eb-us' };
    assert.deepEqual(loadConfig({ STORAGE_LOCATIONS: JSON.stringify([eu, us]) }).storage.locations, [eu, us]);
  });

  it('rejects storage locations that are malformed, duplicated or name no bucket', () => {
    const loc = { id: 'eu', displayName: 'Europe', region: 'europe-west1', bucket: 'eb-eu' };
    const bad = (value: unknown) => () => loadConfig({ STORAGE_LOCATIONS: JSON.stringify(value) });
    assert.throws(() => loadConfig({ STORAGE_LOCATIONS: '{' }), /STORAGE_LOCATIONS must be a JSON array/);
    assert.throws(bad([]), /non-empty array/);
    assert.throws(bad([loc, loc]), /id 'eu' appears twice/);
    assert.throws(bad([{ ...loc, bucket: undefined }]), /STORAGE_LOCATIONS\[0\]\.bucket must be a string/);
    assert.throws(bad([{ ...loc, bucket: 'Not A Bucket' }]), /bucket is not a bucket name/);
    assert.throws(bad([{ ...loc, id: '../x' }]), /\.id must match/);
  });

  it("looks for overdue backups at the daily schedule's own interval", () => {
    // workflow-constants.ts imports types only, so it states the interval twice: the two must change together.
    assert.equal(tenantTiming.backupDueEveryMs, msToNumber(backupSchedule.every));
    assert.ok(tenantTiming.backupOverdueGraceMs < tenantTiming.backupsFailingAfterMs);
  });

  it('decides partitioned listing from measurements unless BACKUP_PARTITIONED_LISTING says always or never', () => {
    assert.equal(loadConfig({}).backup.partitionedListing, 'auto');
    assert.equal(loadConfig({ BACKUP_PARTITIONED_LISTING: 'always' }).backup.partitionedListing, 'always');
    assert.equal(loadConfig({ BACKUP_PARTITIONED_LISTING: 'never' }).backup.partitionedListing, 'never');
    assert.throws(
      () => loadConfig({ BACKUP_PARTITIONED_LISTING: 'yes' }),
      /BACKUP_PARTITIONED_LISTING must be one of auto, always, never, got 'yes'/,
    );
  });

  it('rejects a malformed number naming the variable', () => {
    assert.throws(() => loadConfig({ API_PORT: 'eighty' }), /API_PORT must be a non-negative integer/);
  });
});
