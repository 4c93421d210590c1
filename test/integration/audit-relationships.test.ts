import assert from 'node:assert/strict';
import type { Client as TemporalClient } from '@temporalio/client';
import { connectClient } from '../../temporal/connection';
import { permissionId } from '../../simulator/identity/permissions';
import type { TypeCoverage } from '../../storage/snapshot';
import type { BackupTarget } from '../../tenants/types';
import { backupFixture } from '../helpers/backup-fixture';
import { sharedTestStack, type TestStack } from '../helpers/stack';
import { startWorker, type RunningWorker } from '../helpers/running-worker';
import { BACKUP_APP, startTenantFixture, type TenantFixture } from '../helpers/tenant-fixture';

/**
 * Relationships delta does not report (application and service-principal owners, app-role assignments, federated
 * identity credentials) are in every daily snapshot, found through the directory audit log; without the audit log a
 * backup reads them in full and its coverage report says so.
 */
describe('relationships between full reads, from the directory audit log', function () {
  let stack: TestStack;
  let client: TemporalClient;

  before(async () => {
    stack = await sharedTestStack();
    client = await connectClient(stack.config.temporal);
  });
  after(async () => {
    await client?.connection.close();
  });

  /** A fixture and worker with the given settings; full reads only every 30 backups, checkpoints at every page. */
  function withWorker(env: Record<string, string>) {
    const ctx = {} as { fx: TenantFixture; worker: RunningWorker; f: ReturnType<typeof backupFixture> };
    before(async () => {
      ctx.fx = await startTenantFixture(stack, client, {
        BACKUP_FULL_READ_EVERY: '30',
        BACKUP_CHECKPOINT_SECONDS: '0',
        ...env,
      });
      ctx.worker = await startWorker(ctx.fx.config);
      ctx.f = backupFixture(stack, client, ctx.fx);
    });
    after(async () => {
      await ctx.worker?.stop();
      await ctx.fx?.sim.close();
    });
    return ctx;
  }

  async function backup(ctx: { f: ReturnType<typeof backupFixture> }, target: BackupTarget) {
    const result = await (await ctx.f.startBackup(target)).result();
    assert.equal(result.status, 'completed', await ctx.f.skippedDetail(target, result.snapshotId));
    return result.snapshotId!;
  }

  async function coverage(
    ctx: { f: ReturnType<typeof backupFixture> },
    target: BackupTarget,
    snapshotId: string,
    type: string,
  ): Promise<TypeCoverage & { status: 'captured' }> {
    const c = (await (await ctx.f.repositoryOf(target)).getSnapshot(snapshotId)).types[type];
    assert.equal(c?.status, 'captured', type);
    return c as TypeCoverage & { status: 'captured' };
  }

  async function related(
    ctx: { f: ReturnType<typeof backupFixture> },
    target: BackupTarget,
    snapshotId: string,
    type: string,
    id: string,
    rel: string,
  ) {
    const repo = await ctx.f.repositoryOf(target);
    const entry = (await repo.listEntries(snapshotId, type)).find((e) => e.id === id);
    assert.ok(entry, `${type} ${id} is in the snapshot`);
    return entry.rels?.[rel] ? await repo.readRelationship(entry.rels[rel]) : [];
  }

  /** Day 2's attacker: a new owner on an application, a new application permission on its service principal. */
  function addOwnerAndPermission(fx: TenantFixture, directory: string) {
    const c = fx.sim.control;
    const app = c.listObjects(directory, 'application')[0];
    // A user who is not an owner yet (the generated tenant gives apps owners of its own).
    const user = c
      .listObjects(directory, 'user', { limit: 100_000 })
      .reverse()
      .find((u) => c.addOwner(directory, app.id, u.id).added)!.id;
    const sps = c.listObjects(directory, 'servicePrincipal', { limit: 100_000 });
    const client = sps.find((sp) => sp.data.appId === app.data.appId)!;
    const resource = sps.find((sp) => ((sp.data.appRoles as { id: string }[] | undefined) ?? []).length > 0)!;
    const taken = new Set(
      c
        .listObjects(directory, 'appRoleAssignment', { limit: 100_000 })
        .filter((a) => a.data.principalId === client.id && a.data.resourceId === resource.id)
        .map((a) => a.data.appRoleId),
    );
    const role = (resource.data.appRoles as { id: string }[]).find((r) => !taken.has(r.id))!;
    const assignment = c.assignAppRole(directory, {
      principalId: client.id,
      resourceId: resource.id,
      appRoleId: role.id,
    });
    return { app, user, client, resource, assignment };
  }

  describe('with the audit log', () => {
    const ctx = withWorker({});

    it("has day 2's new application owner, app-role assignment and federated credential in day 2's snapshot", async () => {
      const target = await ctx.f.newTenant(60);
      await backup(ctx, target);
      const { app, user, client, resource, assignment } = addOwnerAndPermission(ctx.fx, target.directory);
      const other = ctx.fx.sim.control.listObjects(target.directory, 'application')[1];
      const credential = ctx.fx.sim.control.addFederatedIdentityCredential(target.directory, other.id, {
        name: 'github-deploy',
        issuer: 'https://token.actions.githubusercontent.com',
        subject: 'repo:contoso/app:ref:refs/heads/main',
        audiences: ['api://AzureADTokenExchange'],
      });

      const seq = ctx.fx.sim.control.requestLog().at(-1)?.seq ?? 0;
      const day2 = await backup(ctx, target);
      const auditReads = ctx.fx.sim.control
        .requestLog({ tenantId: target.directory, kind: 'graph', sinceSeq: seq })
        .filter((e) => e.url.startsWith('/auditLogs/'));
      // Five types follow relationships through the audit log; they share one read (one page here), and the reports
      // service's 5 requests per 10 s (Graph's throttling-limits) was never exceeded.
      assert.deepEqual(
        auditReads.map((e) => e.status),
        [200],
        auditReads.map((e) => `${e.status} ${e.url}`).join('\n'),
      );
      const apps = await coverage(ctx, target, day2, 'applications');
      assert.equal(apps.readMode, 'delta', 'day 2 is not a full read');
      assert.deepEqual(apps.relationships, {
        methods: { owners: 'audit-log', federatedIdentityCredentials: 'audit-log' },
        reread: 2,
      });
      const sps = await coverage(ctx, target, day2, 'servicePrincipals');
      assert.equal(sps.readMode, 'delta');
      assert.equal(sps.relationships?.methods.appRoleAssignments, 'audit-log');
      assert.equal((await coverage(ctx, target, day2, 'groups')).relationships?.methods.members, 'delta');

      assert.ok((await related(ctx, target, day2, 'applications', app.id, 'owners')).some((o) => o.id === user));
      assert.ok(
        (await related(ctx, target, day2, 'applications', other.id, 'federatedIdentityCredentials')).some(
          (c) => c.id === credential.id,
        ),
      );
      assert.ok(
        (await related(ctx, target, day2, 'servicePrincipals', client.id, 'appRoleAssignments')).some(
          (a) => a.id === assignment.id,
        ),
      );
      assert.ok(
        (await related(ctx, target, day2, 'servicePrincipals', resource.id, 'appRoleAssignedTo')).some(
          (a) => a.id === assignment.id,
        ),
      );
    });

    it("has day 2's new administrative-unit and directory-role members in day 2's snapshot, day 3's removals in day 3's", async () => {
      const target = await ctx.f.newTenant(60);
      await backup(ctx, target);
      const c = ctx.fx.sim.control;
      const users = c.listObjects(target.directory, 'user', { limit: 100_000 }).reverse();
      const unit = c.listObjects(target.directory, 'administrativeUnit')[0];
      const role = c.listObjects(target.directory, 'directoryRole')[0];
      assert.ok(unit && role, 'the generated tenant has an administrative unit and an activated role');
      const auMember = users.find((u) => c.addMember(target.directory, unit.id, u.id).added)!.id;
      const roleMember = users.find((u) => c.addMember(target.directory, role.id, u.id).added)!.id;
      const has = async (day: string, type: string, parent: string, member: string) =>
        (await related(ctx, target, day, type, parent, 'members')).some((m) => m.id === member);

      const day2 = await backup(ctx, target);
      for (const type of ['administrativeUnits', 'directoryRoles']) {
        const cov = await coverage(ctx, target, day2, type);
        assert.equal(cov.readMode, 'delta', `${type}: day 2 is not a full read`);
        assert.equal(cov.relationships?.methods.members, 'audit-log', `${type}: ${JSON.stringify(cov.relationships)}`);
        assert.equal(cov.relationships?.reread, 1, `${type}: only the changed parent is read again`);
      }
      assert.ok(await has(day2, 'administrativeUnits', unit.id, auMember), 'the new AU member is in day 2');
      assert.ok(await has(day2, 'directoryRoles', role.id, roleMember), 'the new role member is in day 2');

      c.removeMember(target.directory, unit.id, auMember);
      c.removeMember(target.directory, role.id, roleMember);
      const day3 = await backup(ctx, target);
      assert.ok(!(await has(day3, 'administrativeUnits', unit.id, auMember)), 'the removed AU member is gone on day 3');
      assert.ok(!(await has(day3, 'directoryRoles', role.id, roleMember)), 'the removed role member is gone on day 3');
    });

    it('reads relationships in full when the consent lacks AuditLog.Read.All (403), and says so', async () => {
      const target = await ctx.f.newTenant(60);
      await backup(ctx, target);
      const c = ctx.fx.sim.control;
      const backupSp = c
        .listObjects(target.directory, 'servicePrincipal', { limit: 100_000 })
        .find((sp) => sp.data.appId === BACKUP_APP.clientId)!;
      const grant = c
        .listObjects(target.directory, 'appRoleAssignment', { limit: 100_000 })
        .find((a) => a.data.principalId === backupSp.id && a.data.appRoleId === permissionId('AuditLog.Read.All'))!;
      c.deleteObject(target.directory, grant.id);
      const { app, user } = addOwnerAndPermission(ctx.fx, target.directory);

      const day2 = await backup(ctx, target);
      const apps = await coverage(ctx, target, day2, 'applications');
      assert.equal(apps.readMode, 'full');
      assert.equal(apps.relationships?.fallback, 'audit-log-permission-missing', JSON.stringify(apps.relationships));
      assert.match(apps.relationships?.detail ?? '', /^403/);
      assert.deepEqual(apps.relationships?.methods, { owners: 'full-read', federatedIdentityCredentials: 'full-read' });
      assert.equal(
        (await coverage(ctx, target, day2, 'users')).readMode,
        'delta',
        'types without relationships stay delta',
      );
      assert.ok((await related(ctx, target, day2, 'applications', app.id, 'owners')).some((o) => o.id === user));
    });
  });

  describe('with an audit log that keeps records for less than the gap', () => {
    // The tenants' audit log keeps 0 days: any previous backup is older than its oldest record.
    const ctx = withWorker({ BACKUP_AUDIT_LOG_RETENTION_DAYS: '0' });

    it('reads relationships in full and says why', async () => {
      const target = await ctx.f.newTenant(60);
      await backup(ctx, target);
      const { client, assignment } = addOwnerAndPermission(ctx.fx, target.directory);
      const day2 = await backup(ctx, target);
      const sps = await coverage(ctx, target, day2, 'servicePrincipals');
      assert.equal(sps.readMode, 'full');
      assert.equal(sps.relationships?.fallback, 'audit-log-retention-exceeded');
      assert.equal(sps.relationships?.methods.appRoleAssignments, 'full-read');
      assert.ok(
        (await related(ctx, target, day2, 'servicePrincipals', client.id, 'appRoleAssignments')).some(
          (a) => a.id === assignment.id,
        ),
      );
    });
  });
});
