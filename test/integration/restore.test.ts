import assert from 'node:assert/strict';
import type { Client } from '@temporalio/client';
import type { Client as GraphClient } from '@microsoft/microsoft-graph-client';
import { connectClient } from '../../temporal/connection';
import { createApp } from '../../api/app';
import { StorageAuditLog } from '../../api/audit/storage-audit-log';
import { createStorageClient } from '../../storage/gcs-client';
import { TokenProvider } from '../../activities/graph/token-provider';
import { createGraphClient } from '../../activities/graph/graph-client';
import { sharedTestStack, type TestStack } from '../helpers/stack';
import { startWorker, type RunningWorker } from '../helpers/running-worker';
import { listen, waitFor } from '../helpers/http';
import { startTenantFixture, type TenantFixture } from '../helpers/tenant-fixture';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

/* eslint-disable @typescript-eslint/no-explicit-any */

describe('restore (real Temporal, storage and Entra simulator)', function () {
  this.timeout(300_000);
  let stack: TestStack;
  let client: Client;
  let fx: TenantFixture;
  let worker: RunningWorker;
  let api: Awaited<ReturnType<typeof listen>>;
  let audit: StorageAuditLog;
  let key: string;
  let organizationId: string;
  let resellerId: string;

  before(async () => {
    stack = await sharedTestStack();
    client = await connectClient(stack.config.temporal);
    fx = await startTenantFixture(stack, client, { CONSENT_TIMEOUT_SECONDS: '600' });
    worker = await startWorker(fx.config);
    const storage = createStorageClient(fx.config.storage);
    audit = new StorageAuditLog(storage, fx.config.storage.defaultBucket);
    const app = createApp({ config: fx.config, client, storage, accounts: fx.accounts, audit });
    api = await listen(app, fx.apiPort);
    const reseller = await fx.accounts.createReseller({ name: 'Restore MSP' });
    resellerId = reseller.id;
    organizationId = (await fx.accounts.createOrganization(reseller.id, { name: 'Contoso' })).id;
    key = (await fx.accounts.createApiKey(reseller.id)).apiKey;
  });

  after(async () => {
    await api?.close();
    await worker?.stop();
    await fx?.sim.close();
    await client?.connection.close();
  });

  const call = (method: string, path: string, body?: unknown) =>
    fetch(`${api.baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', accept: 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  async function consent(tenantId: string, app: 'backup' | 'restore', mode?: string) {
    const res = await call('POST', `/tenants/${tenantId}/consent-requests`, { app, mode });
    assert.equal(res.status, 201, await res.clone().text());
    const { consentUrl } = (await res.json()) as { consentUrl: string };
    await admin(consentUrl);
  }

  /** The simulated admin approves, and the browser follows Microsoft's redirect to our callback. */
  async function admin(consentUrl: string) {
    const microsoft = await fetch(consentUrl, { redirect: 'manual' });
    assert.equal(microsoft.status, 302);
    const callback = await fetch(microsoft.headers.get('location')!, { headers: { accept: 'application/json' } });
    assert.equal(callback.status, 200, await callback.text());
  }

  const tenant = async (tenantId: string) => (await (await call('GET', `/tenants/${tenantId}`)).json()) as any;
  const restore = async (tenantId: string, restoreId: string) =>
    (await (await call('GET', `/tenants/${tenantId}/restores/${restoreId}`)).json()) as any;

  /** A backed-up simulated tenant: its ids, the snapshot, and a Graph client with the Restore app (for damage). */
  async function backedUpTenant(restoreMode?: 'permanent', users = 40, prepare?: (directory: string) => void) {
    const ms = fx.sim.control.createTenant({ users, consentMode: 'accept' });
    prepare?.(ms.id);
    const res = await call('POST', '/tenants', {
      organizationId,
      directory: ms.id,
      storageLocationId: 'default',
      plan: 'backup',
      backupImmediately: true,
    });
    assert.equal(res.status, 201, await res.clone().text());
    const { tenantId } = (await res.json()) as { tenantId: string };
    await consent(tenantId, 'backup');
    const t = await waitFor(
      'first backup',
      async () => {
        const t = await tenant(tenantId);
        return t.lastBackup?.status === 'completed' ? t : undefined;
      },
      120_000,
    );
    if (restoreMode) {
      await consent(tenantId, 'restore', restoreMode);
      await waitFor('restore consent', async () =>
        (await tenant(tenantId)).restoreApp.state === 'granted' ? true : undefined,
      );
    }
    const tokens = new TokenProvider(fx.config.entra);
    // The tests damage the tenant with the Restore app; with a one-time consent the tenant must not have it yet.
    if (restoreMode) fx.sim.control.grantConsent(ms.id, fx.config.entra.restoreApp.clientId!);
    const graph: GraphClient = createGraphClient(
      fx.config.entra,
      async () => (await tokens.acquire('restore', ms.id)).accessToken,
    );
    return { directory: ms.id, tenantId, snapshotId: t.lastBackup.snapshotId as string, graph };
  }

  async function requestRestore(tenantId: string, body: Record<string, unknown>) {
    const res = await call('POST', `/tenants/${tenantId}/restores`, body);
    assert.equal(res.status, 202, await res.clone().text());
    return (await res.json()) as any;
  }

  const awaitStatus = (tenantId: string, restoreId: string, statuses: string[], timeoutMs = 120_000) =>
    waitFor(
      `restore ${statuses.join('/')}`,
      async () => {
        const r = await restore(tenantId, restoreId);
        return statuses.includes(r.status) ? r : undefined;
      },
      timeoutMs,
    );

  const writesTo = (directory: string, sinceSeq: number) =>
    fx.sim.control
      .requestLog({ tenantId: directory, kind: 'graph', sinceSeq })
      .filter((e) => e.method !== 'GET' && e.status < 400);

  const lastSeq = () => {
    const log = fx.sim.control.requestLog({});
    return log.length ? log[log.length - 1].seq : 0;
  };

  it('writes nothing before the confirmation, refuses a stale hash and lets an unconfirmed plan expire', async () => {
    const t = await backedUpTenant('permanent');
    const user = structuredClone(fx.sim.control.listObjects(t.directory, 'user', { limit: 3 })[2]);
    fx.sim.control.updateObject(t.directory, user.id, { jobTitle: 'Damaged' });
    const since = lastSeq();
    const started = await requestRestore(t.tenantId, {
      snapshotId: t.snapshotId,
      objects: [{ type: 'users', id: user.id }],
      confirmationTimeoutSeconds: 4,
    });
    const planned = await awaitStatus(t.tenantId, started.restoreId, ['awaiting-confirmation']);
    assert.equal(planned.planDetail.objects[0].action, 'update');
    assert.deepEqual(
      planned.planDetail.objects[0].attributes.map((a: any) => [a.name, a.current, a.restored]),
      [['jobTitle', 'Damaged', user.data.jobTitle ?? null]],
    );
    const second = await call('POST', `/tenants/${t.tenantId}/restores`, {
      snapshotId: t.snapshotId,
      objects: [{ type: 'users', id: user.id }],
    });
    assert.equal(second.status, 409, 'one restore per tenant: a second is refused, not queued');
    assert.match(((await second.json()) as any).detail, /refused \(not queued\)/);
    const stale = await call('POST', `/tenants/${t.tenantId}/restores/${started.restoreId}/confirmation`, {
      planHash: '0'.repeat(64),
    });
    assert.equal(stale.status, 409);
    assert.match(stale.headers.get('content-type') ?? '', /problem\+json/);
    const expired = await awaitStatus(t.tenantId, started.restoreId, ['expired']);
    assert.match(expired.detail, /nothing was written/);
    assert.deepEqual(writesTo(t.directory, since), [], 'no write reached the tenant');
    assert.equal(fx.sim.control.getObject(t.directory, user.id).data.jobTitle, 'Damaged');

    const unknown = await call('POST', `/tenants/${t.tenantId}/restores`, {
      snapshotId: t.snapshotId,
      objects: [{ type: 'devices', id: user.id }],
    });
    assert.equal(unknown.status, 400);
    assert.match(((await unknown.json()) as any).detail, /not restorable/);
    const noObject = await call('POST', `/tenants/${t.tenantId}/restores`, {
      snapshotId: t.snapshotId,
      objects: [{ type: 'users', id: '00000000-0000-4000-8000-000000000000' }],
    });
    assert.equal(noObject.status, 400);
    const noSnapshot = await call('POST', `/tenants/${t.tenantId}/restores`, {
      snapshotId: 'nope',
      objects: [{ type: 'users', id: user.id }],
    });
    assert.equal(noSnapshot.status, 400);
  });

  it("cancels a plan waiting for its confirmation: nothing written, idempotent, only by the tenant's reseller", async () => {
    const t = await backedUpTenant('permanent');
    const user = structuredClone(fx.sim.control.listObjects(t.directory, 'user', { limit: 2 })[1]);
    fx.sim.control.deleteObject(t.directory, user.id, { hard: true });
    const since = lastSeq();
    const started = await requestRestore(t.tenantId, {
      snapshotId: t.snapshotId,
      objects: [{ type: 'users', id: user.id }],
    });
    const cancelUrl = `/tenants/${t.tenantId}/restores/${started.restoreId}/cancellation`;
    const planned = await awaitStatus(t.tenantId, started.restoreId, ['awaiting-confirmation']);
    assert.equal(planned.planDetail.objects[0].action, 'recreate');

    // Another reseller cannot see, let alone cancel, this tenant's restore.
    const other = await fx.accounts.createReseller({ name: 'Other MSP' });
    const otherKey = (await fx.accounts.createApiKey(other.id)).apiKey;
    const foreign = await fetch(`${api.baseUrl}${cancelUrl}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${otherKey}` },
    });
    assert.equal(foreign.status, 404);
    assert.match(foreign.headers.get('content-type') ?? '', /problem\+json/);
    assert.equal((await restore(t.tenantId, started.restoreId)).status, 'awaiting-confirmation');

    const cancelled = await call('POST', cancelUrl);
    assert.equal(cancelled.status, 200, await cancelled.clone().text());
    const body = (await cancelled.json()) as any;
    assert.equal(body.status, 'cancelled');
    assert.match(body.detail, /nothing was written/);
    assert.match(body.cancelledBy, /^reseller:/);
    const again = await call('POST', cancelUrl);
    assert.equal(again.status, 200, 'cancelling a cancelled restore answers it again');
    assert.equal(((await again.json()) as any).status, 'cancelled');

    const late = await call('POST', `/tenants/${t.tenantId}/restores/${started.restoreId}/confirmation`, {
      planHash: planned.plan.hash,
    });
    assert.equal(late.status, 409, 'a cancelled plan cannot be confirmed');
    assert.match(late.headers.get('content-type') ?? '', /problem\+json/);
    await waitFor('the restore workflow to close', async () => {
      const d = await client.workflow.getHandle(`restore:${t.tenantId}`, started.restoreId).describe();
      return d.status.name === 'COMPLETED' ? true : undefined;
    });
    assert.equal((await restore(t.tenantId, started.restoreId)).status, 'cancelled');
    assert.equal(((await (await call('POST', cancelUrl)).json()) as any).status, 'cancelled', 'also once closed');
    assert.deepEqual(writesTo(t.directory, since), [], 'no write reached the tenant');
    assert.ok(
      !fx.sim.control
        .listObjects(t.directory, 'user')
        .some((u: any) => u.data.userPrincipalName === user.data.userPrincipalName),
      'the deleted user was not re-created',
    );
    const jobs = (await (await call('GET', `/jobs?kind=restore&tenantId=${t.tenantId}`)).json()) as any;
    assert.equal(jobs.jobs[0]?.status, 'cancelled', 'System Status shows the restore as cancelled');

    // A restore that is not waiting for its confirmation cannot be cancelled; the tenant is free for the next one.
    const next = await requestRestore(t.tenantId, {
      snapshotId: t.snapshotId,
      objects: [{ type: 'users', id: user.id }],
    });
    const ready = await awaitStatus(t.tenantId, next.restoreId, ['awaiting-confirmation']);
    const confirmed = await call('POST', `/tenants/${t.tenantId}/restores/${next.restoreId}/confirmation`, {
      planHash: ready.plan.hash,
    });
    assert.equal(confirmed.status, 202);
    const tooLate = await call('POST', `/tenants/${t.tenantId}/restores/${next.restoreId}/cancellation`);
    assert.equal(tooLate.status, 409);
    assert.match(((await tooLate.json()) as any).detail, /only a plan waiting for its confirmation can be cancelled/);
    await awaitStatus(t.tenantId, next.restoreId, ['completed']);
    const trail = await audit.list(resellerId, { limit: 500 });
    assert.ok(trail.some((e) => e.action === 'restore.cancel' && e.outcome === 'succeeded'));
  });

  it('recovery fidelity: damaged users, groups, apps, CA policies, a named location, an AU, role assignments and federated credentials come back', async () => {
    const c = fx.sim.control;
    type RoleAssignment = { id: string; principalId: string; roleDefinitionId: string; directoryScopeId: string };
    const roleKey = (a: Omit<RoleAssignment, 'id'>) => `${a.principalId}|${a.roleDefinitionId}|${a.directoryScopeId}`;
    const cred = (name: string) => ({
      name,
      issuer: 'https://token.actions.githubusercontent.com',
      subject: `repo:contoso/${name}:ref:refs/heads/main`,
      audiences: ['api://AzureADTokenExchange'],
      description: `Deploys ${name}`,
    });
    // Before the backup: the user about to be hard-deleted also holds a role scoped to an administrative unit (one
    // restored in place), and two applications (one hard-deleted, one damaged) have federated credentials.
    const t = await backedUpTenant('permanent', 40, (directory) => {
      const holder = c
        .listObjects(directory, 'unifiedRoleAssignment')
        .map((a) => c.getObject(directory, String(a.data.principalId)))
        .find((u) => u.kind === 'user' && !(u.data.userPrincipalName as string).includes('#'))!;
      const unit = c.listObjects(directory, 'administrativeUnit')[1];
      const definition = c.listObjects(directory, 'unifiedRoleDefinition')[0];
      c.createObject(directory, 'unifiedRoleAssignment', {
        principalId: holder.id,
        roleDefinitionId: definition.id,
        directoryScopeId: `/administrativeUnits/${unit.id}`,
      });
      c.createObject(directory, 'scopedRoleMembership', {
        roleId: c.listObjects(directory, 'directoryRole')[0].id,
        administrativeUnitId: unit.id,
        roleMemberInfo: {
          id: holder.id,
          displayName: holder.data.displayName,
          userPrincipalName: holder.data.userPrincipalName,
        },
      });
      const [, hard, owned] = c.listObjects(directory, 'application');
      c.addFederatedIdentityCredential(directory, hard.id, cred('deploy-hard'));
      c.addFederatedIdentityCredential(directory, owned.id, cred('deploy-owned'));
      c.addFederatedIdentityCredential(directory, owned.id, cred('deploy-owned-2'));
    });
    const roleAssignmentsOf = async (principalId: string) =>
      (
        (await t.graph
          .api('/roleManagement/directory/roleAssignments')
          .filter(`principalId eq '${principalId}'`)
          .get()) as { value: RoleAssignment[] }
      ).value;
    type Scoped = { id: string; roleId: string; roleMemberInfo: { id: string } };
    const scopedOf = async (auId: string) =>
      (
        (await t.graph.api(`/directory/administrativeUnits/${auId}/scopedRoleMembers`).get()) as {
          value: Scoped[];
        }
      ).value;
    const scopedKeys = async (auId: string) =>
      (await scopedOf(auId)).map((m) => `${m.roleId}|${m.roleMemberInfo.id}`).sort();
    const credentialsOf = async (appId: string) =>
      (
        (await t.graph.api(`/applications/${appId}/federatedIdentityCredentials`).get()) as {
          value: Record<string, unknown>[];
        }
      ).value
        .map(({ name, issuer, subject, audiences, description }) => ({ name, issuer, subject, audiences, description }))
        .sort((a, b) => (String(a.name) < String(b.name) ? -1 : 1));
    const seededAssignments = c.listObjects(t.directory, 'unifiedRoleAssignment');
    const auScopedHolder = String(
      seededAssignments.find((a) => String(a.data.directoryScopeId).startsWith('/administrativeUnits/'))!.data
        .principalId,
    );
    const roleHolders = new Set(seededAssignments.map((a) => String(a.data.principalId)));
    // The user holding the AU-scoped role first (hard-deleted), another role holder next (changed).
    const rank = (id: string) => (id === auScopedHolder ? 0 : roleHolders.has(id) ? 1 : 2);
    const users = structuredClone(c.listObjects(t.directory, 'user')).sort((a, b) => rank(a.id) - rank(b.id));
    const groups = structuredClone(c.listObjects(t.directory, 'group'));
    const policies = structuredClone(c.listObjects(t.directory, 'conditionalAccessPolicy'));
    const excludedGroupId = (policies[0].data as any).conditions.users.excludeGroups[0] as string;
    const excludedGroup = structuredClone(c.getObject(t.directory, excludedGroupId));
    const excludedMembers = c.listMembers(t.directory, excludedGroupId);
    const [hardUser, changedUser, softUser] = users.filter((u) => !(u.data.userPrincipalName as string).includes('#'));
    const hardUserRoles = await roleAssignmentsOf(hardUser.id);
    // Scoped role members of two AUs restored in place: the hard-deleted user is one of the first's.
    const [, scopedAu, damagedAu] = c.listObjects(t.directory, 'administrativeUnit');
    const scopedBefore = {
      [scopedAu.id]: await scopedKeys(scopedAu.id),
      [damagedAu.id]: await scopedKeys(damagedAu.id),
    };
    assert.ok(scopedBefore[scopedAu.id].some((k) => k.endsWith(`|${hardUser.id}`)));
    const changedUserRoles = await roleAssignmentsOf(changedUser.id);
    assert.ok(
      hardUserRoles.some((a) => a.directoryScopeId.startsWith('/administrativeUnits/')) &&
        hardUserRoles.some((a) => a.directoryScopeId === '/') &&
        changedUserRoles.length > 0,
      'the hard-deleted user holds a tenant-wide and an AU-scoped role, the changed user a role',
    );
    const groupsOf = (id: string) =>
      groups.filter((g) => c.listMembers(t.directory, g.id).includes(id)).map((g) => g.id);
    const otherGroup = groups.find((g) => g.id !== excludedGroupId && c.listMembers(t.directory, g.id).length > 1)!;
    const removedMember = c.listMembers(t.directory, otherGroup.id)[0];
    const apps = structuredClone(c.listObjects(t.directory, 'application'));
    const sps = structuredClone(c.listObjects(t.directory, 'servicePrincipal'));
    const spOf = (appId: unknown) => sps.find((s) => s.data.appId === appId)!;
    const [softApp, hardApp] = apps;
    const softSp = spOf(softApp.data.appId);
    const hardSp = spOf(hardApp.data.appId);
    const location = structuredClone(c.listObjects(t.directory, 'namedLocation')[0]);
    const au = structuredClone(c.listObjects(t.directory, 'administrativeUnit')[0]);
    const hardPolicy = policies[1];
    const changedPolicy = policies[3];

    const ownedApp = apps[2];
    const hardAppCredentials = await credentialsOf(hardApp.id);
    const ownedAppCredentials = await credentialsOf(ownedApp.id);
    assert.equal(hardAppCredentials.length, 1);
    assert.equal(ownedAppCredentials.length, 2);
    const ownersOf = async (path: string) =>
      ((await t.graph.api(`${path}/owners`).get()) as { value: { id: string }[] }).value.map((o) => o.id).sort();
    const appOwners = await ownersOf(`/applications/${ownedApp.id}`);
    // A hard-deleted group with an owner, nested in no other group (whose membership it would otherwise change).
    let ownedGroup: (typeof groups)[number] | undefined;
    let groupOwners: string[] = [];
    for (const g of groups) {
      if (g.id === excludedGroupId || g.id === otherGroup.id) continue;
      if (groups.some((p) => c.listMembers(t.directory, p.id).includes(g.id))) continue;
      groupOwners = await ownersOf(`/groups/${g.id}`);
      if (groupOwners.length > 0 && !groupOwners.includes(hardUser.id) && !groupOwners.includes(softUser.id)) {
        ownedGroup = g;
        break;
      }
    }
    assert.ok(ownedGroup && appOwners.length > 0, 'the seed gives apps and groups owners');
    const ownedGroupMembers = c.listMembers(t.directory, ownedGroup.id);

    // Damage.
    await t.graph.api(`/applications/${ownedApp.id}/owners/${appOwners[0]}/$ref`).delete();
    // A role assignment removed, another one added after the backup; a credential removed, another changed, one added.
    const removedRole = changedUserRoles[0];
    await t.graph.api(`/roleManagement/directory/roleAssignments/${removedRole.id}`).delete();
    const otherDefinition = c
      .listObjects(t.directory, 'unifiedRoleDefinition')
      .find((d) => !changedUserRoles.some((a) => a.roleDefinitionId === d.id))!;
    await t.graph
      .api('/roleManagement/directory/roleAssignments')
      .post({ principalId: changedUser.id, roleDefinitionId: otherDefinition.id, directoryScopeId: '/' });
    const [removedScoped] = await scopedOf(damagedAu.id);
    await t.graph.api(`/directory/administrativeUnits/${damagedAu.id}/scopedRoleMembers/${removedScoped.id}`).delete();
    const extraScoped = {
      roleId: c.listObjects(t.directory, 'directoryRole').find((r) => r.id !== removedScoped.roleId)!.id,
      roleMemberInfo: { id: changedUser.id },
    };
    await t.graph.api(`/directory/administrativeUnits/${damagedAu.id}/scopedRoleMembers`).post(extraScoped);
    await t.graph.api(`/applications/${ownedApp.id}/federatedIdentityCredentials/deploy-owned`).delete();
    await t.graph
      .api(`/applications/${ownedApp.id}/federatedIdentityCredentials/deploy-owned-2`)
      .patch({ subject: 'repo:attacker/x:ref:refs/heads/main' });
    await t.graph.api(`/applications/${ownedApp.id}/federatedIdentityCredentials`).post(cred('added-later'));
    const affectedGroups = new Set([...groupsOf(softUser.id), ...groupsOf(hardUser.id), otherGroup.id]);
    affectedGroups.delete(excludedGroupId);
    c.updateObject(t.directory, changedUser.id, { jobTitle: 'Damaged', department: 'Nowhere' });
    c.deleteObject(t.directory, softUser.id);
    c.deleteObject(t.directory, hardUser.id, { hard: true });
    c.removeMember(t.directory, otherGroup.id, removedMember);
    c.updateObject(t.directory, otherGroup.id, { description: 'Damaged' });
    c.deleteObject(t.directory, excludedGroupId, { hard: true });
    c.deleteObject(t.directory, ownedGroup.id, { hard: true });
    await t.graph.api(`/applications/${softApp.id}`).delete();
    await t.graph.api(`/applications/${hardApp.id}`).delete();
    await t.graph.api(`/directory/deletedItems/${hardApp.id}`).delete();
    await t.graph.api(`/directory/deletedItems/${hardSp.id}`).delete();
    c.deleteObject(t.directory, hardPolicy.id, { hard: true });
    c.updateObject(t.directory, changedPolicy.id, { displayName: 'Damaged policy' });
    c.deleteObject(t.directory, location.id, { hard: true });
    c.deleteObject(t.directory, au.id);
    const otherAus = c.listObjects(t.directory, 'administrativeUnit').filter((a) => a.id !== au.id);

    const objects = [
      { type: 'users', id: changedUser.id },
      { type: 'users', id: softUser.id },
      { type: 'users', id: hardUser.id },
      { type: 'groups', id: excludedGroupId },
      { type: 'groups', id: ownedGroup.id },
      ...[...affectedGroups].map((id) => ({ type: 'groups', id })),
      { type: 'applications', id: softApp.id },
      { type: 'servicePrincipals', id: softSp.id },
      { type: 'applications', id: hardApp.id },
      { type: 'applications', id: ownedApp.id },
      { type: 'servicePrincipals', id: hardSp.id },
      { type: 'conditionalAccessPolicies', id: hardPolicy.id },
      { type: 'conditionalAccessPolicies', id: changedPolicy.id },
      { type: 'namedLocations', id: location.id },
      { type: 'administrativeUnits', id: au.id },
      ...otherAus.map((a) => ({ type: 'administrativeUnits', id: a.id })),
    ];
    const started = await requestRestore(t.tenantId, { snapshotId: t.snapshotId, objects });
    const planned = await awaitStatus(t.tenantId, started.restoreId, ['awaiting-confirmation']);
    const actionOf = (id: string) => planned.planDetail.objects.find((o: any) => o.id === id)?.action;
    assert.equal(actionOf(changedUser.id), 'update');
    assert.equal(actionOf(softUser.id), 'restore-from-recycle-bin');
    assert.equal(actionOf(hardUser.id), 'recreate');
    assert.equal(actionOf(excludedGroupId), 'recreate');
    assert.equal(actionOf(hardApp.id), 'recreate');
    assert.equal(actionOf(hardPolicy.id), 'recreate');
    assert.equal(actionOf(au.id), 'restore-from-recycle-bin');
    const plannedRoles = (planned.planDetail.roleAssignments ?? []) as (Omit<RoleAssignment, 'id'> & {
      action: string;
    })[];
    assert.deepEqual(
      plannedRoles.map((a) => `${a.action} ${roleKey(a)}`).sort(),
      [
        ...hardUserRoles.map((a) => `create ${roleKey(a)}`),
        `create ${roleKey(removedRole)}`,
        `remove ${roleKey({ principalId: changedUser.id, roleDefinitionId: otherDefinition.id, directoryScopeId: '/' })}`,
      ].sort(),
      'the plan lists the role assignments to create (by snapshot ids) and the one added since to remove',
    );
    assert.equal(planned.plan.counts.roleAssignments, plannedRoles.length);
    const plannedScoped = (planned.planDetail.scopedRoleMembers ?? []) as any[];
    assert.ok(
      plannedScoped.some(
        (m) =>
          m.action === 'create' &&
          m.administrativeUnitId === damagedAu.id &&
          m.roleId === removedScoped.roleId &&
          m.memberId === removedScoped.roleMemberInfo.id,
      ) &&
        plannedScoped.some(
          (m) => m.action === 'create' && m.administrativeUnitId === scopedAu.id && m.memberId === hardUser.id,
        ) &&
        plannedScoped.some(
          (m) => m.action === 'remove' && m.administrativeUnitId === damagedAu.id && m.memberId === changedUser.id,
        ),
      `the removed, the hard-deleted user's and the added scoped role members are planned: ${JSON.stringify(plannedScoped)}`,
    );
    const ownedPlan = planned.planDetail.objects.find((o: any) => o.id === ownedApp.id);
    assert.deepEqual(
      ownedPlan.relationships.find((r: any) => r.name === 'federatedIdentityCredentials'),
      {
        name: 'federatedIdentityCredentials',
        add: ['deploy-owned', 'deploy-owned-2'],
        remove: ['added-later'],
        missing: [],
      },
    );
    assert.ok(
      planned.planDetail.remaps.some((r: any) => r.references.includes(excludedGroupId)),
      'live CA policies that exclude the re-created group are listed for remapping',
    );

    const confirm = await call('POST', `/tenants/${t.tenantId}/restores/${started.restoreId}/confirmation`, {
      planHash: planned.plan.hash,
    });
    assert.equal(confirm.status, 202, await confirm.clone().text());
    const done = await awaitStatus(t.tenantId, started.restoreId, ['completed', 'partly-completed', 'failed']);
    const report = done.reportDetail;
    const notRestored = report.objects.filter((o: any) => o.outcome !== 'restored' && o.outcome !== 'unchanged');
    assert.deepEqual(notRestored, [], JSON.stringify(notRestored, null, 1));
    assert.equal(done.status, 'completed');
    assert.ok(report.fidelity.restorable > 50, `restorable set measured: ${report.fidelity.restorable}`);
    assert.equal(report.fidelity.restored, report.fidelity.restorable);
    assert.equal(done.confirmedBy.startsWith('reseller:'), true);

    // The tenant itself, read independently of the restore's own verification.
    const newGroupId = report.idMapping[excludedGroupId];
    assert.ok(newGroupId && newGroupId !== excludedGroupId, 'the hard-deleted group has a new id');
    const back = c.getObject(t.directory, newGroupId);
    assert.equal(back.data.displayName, excludedGroup.data.displayName);
    const stillThere = excludedMembers.filter((m) => m !== hardUser.id);
    const nowMembers = c.listMembers(t.directory, newGroupId);
    for (const m of stillThere) assert.ok(nowMembers.includes(m), `member ${m} is back`);
    const newOwnedGroupId = report.idMapping[ownedGroup.id];
    assert.deepEqual(await ownersOf(`/groups/${newOwnedGroupId}`), groupOwners, 'the re-created group has its owners');
    assert.deepEqual(
      c.listMembers(t.directory, newOwnedGroupId).sort(),
      ownedGroupMembers.map((m) => report.idMapping[m] ?? m).sort(),
      'and its members (a re-created member by its new id)',
    );
    assert.deepEqual(
      await ownersOf(`/applications/${ownedApp.id}`),
      appOwners.map((o) => report.idMapping[o] ?? o).sort(),
      'the removed app owner is back',
    );
    for (const p of c.listObjects(t.directory, 'conditionalAccessPolicy')) {
      const ex = (p.data as any).conditions.users.excludeGroups as string[];
      assert.ok(!ex.includes(excludedGroupId), `policy ${String(p.data.displayName)} no longer names the old id`);
    }
    assert.ok(
      c
        .listObjects(t.directory, 'conditionalAccessPolicy')
        .some((p) => ((p.data as any).conditions.users.excludeGroups as string[]).includes(newGroupId)),
      'a CA policy excludes the re-created group by its new id',
    );
    const recreatedPolicy = c.getObject(t.directory, report.idMapping[hardPolicy.id]);
    assert.equal(recreatedPolicy.data.state, 'enabledForReportingButNotEnforced', 'CA policy back report-only');
    assert.equal(recreatedPolicy.data.displayName, hardPolicy.data.displayName);
    assert.equal(c.getObject(t.directory, changedUser.id).data.jobTitle, changedUser.data.jobTitle);
    assert.ok(c.listMembers(t.directory, otherGroup.id).includes(removedMember));
    assert.equal(c.getObject(t.directory, softUser.id).deleted, false);
    const newUser = c.getObject(t.directory, report.idMapping[hardUser.id]);
    assert.equal(newUser.data.userPrincipalName, hardUser.data.userPrincipalName);
    assert.ok(report.temporaryPasswordUsers.includes(newUser.id));
    assert.ok(
      report.secretsToReissue.some((s: any) => s.id === hardUser.id),
      'the re-created user is listed: its password was not invented',
    );
    const newApp = c.getObject(t.directory, report.idMapping[hardApp.id]);
    const newSp = c.getObject(t.directory, report.idMapping[hardSp.id]);
    assert.equal(newSp.data.appId, newApp.data.appId, 'the re-created SP belongs to the re-created app');
    assert.equal(c.getObject(t.directory, softSp.id).deleted, false, 'the soft-deleted SP is back with its app');

    // Directory role assignments: the re-created user's by its new id (tenant-wide and AU-scoped), the removed one
    // back, the one added since gone; a tenant-wide one also shows the user among the activated role's members.
    const remapped = (a: RoleAssignment) =>
      roleKey({ ...a, principalId: report.idMapping[a.principalId] ?? a.principalId });
    assert.deepEqual(
      (await roleAssignmentsOf(newUser.id)).map(roleKey).sort(),
      hardUserRoles.map(remapped).sort(),
      'the hard-deleted user holds its roles again, by its new id',
    );
    assert.deepEqual(
      (await roleAssignmentsOf(changedUser.id)).map(roleKey).sort(),
      changedUserRoles.map(roleKey).sort(),
    );
    const tenantWide = hardUserRoles.find((a) => a.directoryScopeId === '/')!;
    const role = c
      .listObjects(t.directory, 'directoryRole')
      .find((r) => r.data.roleTemplateId === tenantWide.roleDefinitionId);
    if (role) assert.ok(c.listMembers(t.directory, role.id).includes(newUser.id), 'a member of the activated role');

    // Scoped role members of the AUs as captured, the re-created user by its new id, the added one gone.
    const remappedScoped = (keys: string[]) =>
      keys
        .map((k) => {
          const [roleId, memberId] = k.split('|');
          return `${roleId}|${report.idMapping[memberId] ?? memberId}`;
        })
        .sort();
    for (const auId of [scopedAu.id, damagedAu.id])
      assert.deepEqual(await scopedKeys(auId), remappedScoped(scopedBefore[auId]), `scoped role members of ${auId}`);

    // Federated identity credentials: on the re-created app, and the damaged app's as captured (the added one gone).
    assert.deepEqual(await credentialsOf(newApp.id), hardAppCredentials);
    assert.deepEqual(await credentialsOf(ownedApp.id), ownedAppCredentials);

    const jobs = (await (await call('GET', `/jobs?kind=restore&tenantId=${t.tenantId}`)).json()) as any;
    assert.equal(jobs.jobs[0]?.kind, 'restore');
    const trail = await audit.list(resellerId, { limit: 500 });
    const confirmEntry = trail.find((e) => e.action === 'restore.confirm' && e.outcome === 'succeeded');
    assert.ok(confirmEntry?.detail?.includes(planned.plan.hash), 'the audit trail names the confirmed plan hash');
    assert.match(confirmEntry!.actor, /^reseller:/);
  });

  it('a hard-deleted user restored alone comes back in its groups and AUs and with its app roles; a removed assignment and grant are back', async () => {
    const t = await backedUpTenant('permanent');
    const c = fx.sim.control;
    type Assignment = { id: string; principalId: string; resourceId: string; appRoleId: string };
    const sps = structuredClone(c.listObjects(t.directory, 'servicePrincipal'));
    const assignedTo = async (spId: string) =>
      ((await t.graph.api(`/servicePrincipals/${spId}/appRoleAssignedTo`).get()) as { value: Assignment[] }).value;
    const assignments: Assignment[] = [];
    for (const sp of sps) assignments.push(...(await assignedTo(sp.id)));
    const parents = [
      ...c.listObjects(t.directory, 'group').map((g) => g.id),
      ...c.listObjects(t.directory, 'administrativeUnit').map((a) => a.id),
    ];
    const aus = new Set(c.listObjects(t.directory, 'administrativeUnit').map((a) => a.id));
    const parentsOf = (id: string) => parents.filter((p) => c.listMembers(t.directory, p).includes(id));
    // A user in groups and an administrative unit, with an app role.
    const user = c
      .listObjects(t.directory, 'user')
      .find(
        (u) =>
          !(u.data.userPrincipalName as string).includes('#') &&
          parentsOf(u.id).some((p) => aus.has(p)) &&
          parentsOf(u.id).some((p) => !aus.has(p)) &&
          assignments.some((a) => a.principalId === u.id),
      );
    assert.ok(user, 'the seed has a user with groups, an AU and an app role');
    const userParents = parentsOf(user.id).sort();
    const userRoles = assignments.filter((a) => a.principalId === user.id);
    // Another principal's assignment, removed: restoring its resource service principal brings it back.
    const removed = assignments.find((a) => a.principalId !== user.id && a.resourceId !== userRoles[0].resourceId)!;
    assert.ok(removed, 'the seed has another assignment');

    type Grant = { id: string; clientId: string; resourceId: string; consentType: string; scope: string };
    const grants = async () => ((await t.graph.api('/oauth2PermissionGrants').get()) as { value: Grant[] }).value;
    const grant = (await grants()).find((g) => sps.some((s) => s.id === g.clientId));
    assert.ok(grant, 'the seed has a delegated permission grant');

    c.deleteObject(t.directory, user.id, { hard: true });
    await t.graph.api(`/servicePrincipals/${removed.resourceId}/appRoleAssignedTo/${removed.id}`).delete();
    await t.graph.api(`/oauth2PermissionGrants/${grant.id}`).delete();
    for (const p of userParents) assert.ok(!c.listMembers(t.directory, p).includes(user.id));

    const started = await requestRestore(t.tenantId, {
      snapshotId: t.snapshotId,
      objects: [
        { type: 'users', id: user.id },
        ...[...new Set([removed.resourceId, grant.clientId])].map((id) => ({ type: 'servicePrincipals', id })),
      ],
    });
    const planned = await awaitStatus(t.tenantId, started.restoreId, ['awaiting-confirmation']);
    const plan = planned.planDetail;
    assert.equal(plan.objects.find((o: any) => o.id === user.id).action, 'recreate');
    assert.deepEqual(
      plan.memberships.map((m: any) => m.id).sort(),
      userParents,
      'every group and AU of the user is a member add on the parent',
    );
    for (const m of plan.memberships) assert.deepEqual(m.add, [user.id]);
    const key = (a: { principalId: string; resourceId: string; appRoleId: string }) =>
      `${a.principalId}|${a.resourceId}|${a.appRoleId}`;
    assert.deepEqual(
      plan.appRoleAssignments.map(key).sort(),
      [...userRoles, removed].map(key).sort(),
      'the user’s app roles and the removed assignment, and nothing the tenant still has',
    );
    assert.equal(planned.plan.counts.memberships, userParents.length);
    assert.deepEqual(
      plan.oauth2PermissionGrants.map((g: any) => [g.clientId, g.resourceId, g.scope, g.action]),
      [[grant.clientId, grant.resourceId, grant.scope, 'create']],
      'the removed delegated grant, and nothing the tenant still has',
    );

    const confirm = await call('POST', `/tenants/${t.tenantId}/restores/${started.restoreId}/confirmation`, {
      planHash: planned.plan.hash,
    });
    assert.equal(confirm.status, 202, await confirm.clone().text());
    const done = await awaitStatus(t.tenantId, started.restoreId, ['completed', 'partly-completed', 'failed']);
    const report = done.reportDetail;
    assert.equal(done.status, 'completed', JSON.stringify(report.objects, null, 1));
    const newId = report.idMapping[user.id];
    assert.ok(newId && newId !== user.id, 'the user has a new id');
    for (const p of userParents) assert.ok(c.listMembers(t.directory, p).includes(newId), `back in ${p} by its new id`);
    const userReport = report.objects.find((o: any) => o.id === user.id);
    assert.equal(userReport.outcome, 'restored');
    for (const a of userRoles) {
      const now = await assignedTo(a.resourceId);
      assert.ok(
        now.some((x) => x.principalId === newId && x.appRoleId === a.appRoleId),
        'the user’s app role is back, by its new id',
      );
    }
    const back = (await assignedTo(removed.resourceId)).filter(
      (x) => x.principalId === removed.principalId && x.appRoleId === removed.appRoleId,
    );
    assert.equal(back.length, 1, 'the removed assignment is back, once');
    const grantBack = (await grants()).filter(
      (g) => g.clientId === grant.clientId && g.resourceId === grant.resourceId,
    );
    assert.deepEqual(
      grantBack.map((g) => [g.consentType, g.scope]),
      [[grant.consentType, grant.scope]],
      'the removed delegated grant is back, once',
    );
    assert.ok(report.fidelity.restorable >= userParents.length + userRoles.length + 2);
    assert.equal(report.fidelity.restored, report.fidelity.restorable);
  });

  // After the tests above: the simulator seeds each tenant by how many came before, so theirs stay as they were.
  it('a hard-deleted administrative unit comes back with its members, its AU-scoped role assignment and scoped role members, by its new id; a role assignment named in the request is re-created', async () => {
    const c = fx.sim.control;
    let unitId = '';
    let holderId = '';
    let definitionId = '';
    const t = await backedUpTenant('permanent', 40, (directory) => {
      unitId = c.listObjects(directory, 'administrativeUnit')[0].id;
      holderId = c.listObjects(directory, 'user').find((u) => !(u.data.userPrincipalName as string).includes('#'))!.id;
      definitionId = c.listObjects(directory, 'unifiedRoleDefinition')[0].id;
      c.createObject(directory, 'unifiedRoleAssignment', {
        principalId: holderId,
        roleDefinitionId: definitionId,
        directoryScopeId: `/administrativeUnits/${unitId}`,
      });
    });
    const scopesOf = async (principalId: string) =>
      (
        (await t.graph
          .api('/roleManagement/directory/roleAssignments')
          .filter(`principalId eq '${principalId}'`)
          .get()) as { value: { roleDefinitionId: string; directoryScopeId: string }[] }
      ).value
        .filter((a) => a.roleDefinitionId === definitionId)
        .map((a) => a.directoryScopeId);
    const scopedKeys = async (auId: string) =>
      (
        (await t.graph.api(`/directory/administrativeUnits/${auId}/scopedRoleMembers`).get()) as {
          value: { roleId: string; roleMemberInfo: { id: string } }[];
        }
      ).value
        .map((m) => `${m.roleId}|${m.roleMemberInfo.id}`)
        .sort();
    const scopedBefore = await scopedKeys(unitId);
    const membersBefore = c.listMembers(t.directory, unitId).sort();
    assert.ok(
      scopedBefore.length > 0 && membersBefore.length > 0,
      'the seed gives AUs members and a scoped role member',
    );
    assert.ok((await scopesOf(holderId)).includes(`/administrativeUnits/${unitId}`));

    c.deleteObject(t.directory, unitId, { hard: true });
    assert.ok(!(await scopesOf(holderId)).includes(`/administrativeUnits/${unitId}`), 'gone with its AU');
    // A tenant-wide role assignment removed, named in the request by its snapshot id; another one still there.
    const [named, kept] = c
      .listObjects(t.directory, 'unifiedRoleAssignment')
      .filter((a) => a.data.directoryScopeId === '/')
      .map((a) => structuredClone(a));
    await t.graph.api(`/roleManagement/directory/roleAssignments/${named.id}`).delete();

    const started = await requestRestore(t.tenantId, {
      snapshotId: t.snapshotId,
      objects: [
        { type: 'administrativeUnits', id: unitId },
        { type: 'roleAssignments', id: named.id },
        { type: 'roleAssignments', id: kept.id },
      ],
    });
    const planned = await awaitStatus(t.tenantId, started.restoreId, ['awaiting-confirmation']);
    assert.equal(planned.planDetail.objects[0].action, 'recreate');
    assert.deepEqual(
      planned.planDetail.objects.slice(1).map((o: any) => [o.id, o.action]),
      [
        [named.id, 'recreate'],
        [kept.id, 'unchanged'],
      ],
    );
    assert.deepEqual(
      planned.planDetail.roleAssignments.filter(
        (a: any) => a.principalId === holderId && a.roleDefinitionId === definitionId,
      ),
      [
        {
          action: 'create',
          principalId: holderId,
          roleDefinitionId: definitionId,
          directoryScopeId: `/administrativeUnits/${unitId}`,
        },
      ],
      'planned by the snapshot ids',
    );
    assert.equal(planned.plan.counts.scopedRoleMembers, scopedBefore.length);
    const confirm = await call('POST', `/tenants/${t.tenantId}/restores/${started.restoreId}/confirmation`, {
      planHash: planned.plan.hash,
    });
    assert.equal(confirm.status, 202, await confirm.clone().text());
    const done = await awaitStatus(t.tenantId, started.restoreId, ['completed', 'partly-completed', 'failed']);
    const report = done.reportDetail;
    assert.equal(done.status, 'completed', JSON.stringify(report.objects, null, 1));
    const newId = report.idMapping[unitId];
    assert.ok(newId && newId !== unitId, 'the AU has a new id');
    assert.deepEqual(c.listMembers(t.directory, newId).sort(), membersBefore);
    assert.ok((await scopesOf(holderId)).includes(`/administrativeUnits/${newId}`), 'the role is scoped to the new AU');
    assert.deepEqual(await scopedKeys(newId), scopedBefore, 'and its scoped role members are back');
    const namedBack = (
      (await t.graph
        .api('/roleManagement/directory/roleAssignments')
        .filter(`principalId eq '${String(named.data.principalId)}'`)
        .get()) as { value: { id: string; roleDefinitionId: string; directoryScopeId: string }[] }
    ).value.filter((a) => a.roleDefinitionId === named.data.roleDefinitionId && a.directoryScopeId === '/');
    assert.equal(namedBack.length, 1, 'the named role assignment is back, once');
    const namedReport = report.objects.find((o: any) => o.id === named.id);
    assert.deepEqual([namedReport.outcome, namedReport.liveId], ['restored', namedBack[0].id], 'under a new id');
    assert.equal(report.objects.find((o: any) => o.id === kept.id).outcome, 'unchanged');
    assert.equal(report.fidelity.restored, report.fidelity.restorable);
  });

  it('asks for a one-time Restore consent, uses it for this restore and removes it afterwards', async () => {
    const t = await backedUpTenant(undefined, 20);
    const user = structuredClone(fx.sim.control.listObjects(t.directory, 'user', { limit: 2 })[1]);
    fx.sim.control.updateObject(t.directory, user.id, { department: 'Damaged' });
    const started = await requestRestore(t.tenantId, {
      snapshotId: t.snapshotId,
      objects: [{ type: 'users', id: user.id }],
    });
    assert.equal(started.status, 'awaiting-consent', JSON.stringify(started));
    assert.equal(started.consent.mode, 'one-time');
    assert.match(started.consent.consentUrl, new RegExp(`/${t.directory}/v2.0/adminconsent`));
    await admin(started.consent.consentUrl);
    const planned = await awaitStatus(t.tenantId, started.restoreId, ['awaiting-confirmation']);
    const confirm = await call('POST', `/tenants/${t.tenantId}/restores/${started.restoreId}/confirmation`, {
      planHash: planned.plan.hash,
    });
    assert.equal(confirm.status, 202);
    const done = await awaitStatus(t.tenantId, started.restoreId, ['completed', 'partly-completed', 'failed']);
    assert.equal(done.status, 'completed', JSON.stringify(done.reportDetail));
    assert.equal(fx.sim.control.getObject(t.directory, user.id).data.department, user.data.department ?? undefined);
    assert.ok(done.revocation.removed > 0, JSON.stringify(done.revocation));
    const sp = fx.sim.control
      .listObjects(t.directory, 'servicePrincipal')
      .find((s) => s.data.appId === fx.config.entra.restoreApp.clientId)!;
    const left = fx.sim.control
      .listObjects(t.directory, 'appRoleAssignment')
      .filter((a) => (a.data as { principalId?: string }).principalId === sp.id);
    assert.deepEqual(left, [], 'no application permission of the Restore app is left in the tenant');
    const record = await tenant(t.tenantId);
    assert.equal(record.restoreApp.state, 'used');
    assert.match(record.restoreApp.reason, new RegExp(started.restoreId));
  });

  it('is refused, changing nothing, when the admin declines the Restore consent', async () => {
    const t = await backedUpTenant(undefined, 20);
    fx.sim.control.setConsentMode(t.directory, 'decline');
    const user = fx.sim.control.listObjects(t.directory, 'user', { limit: 1 })[0];
    const since = lastSeq();
    const started = await requestRestore(t.tenantId, {
      snapshotId: t.snapshotId,
      objects: [{ type: 'users', id: user.id }],
    });
    assert.equal(started.status, 'awaiting-consent');
    const microsoft = await fetch(started.consent.consentUrl, { redirect: 'manual' });
    await fetch(microsoft.headers.get('location')!, { headers: { accept: 'application/json' } });
    const refused = await awaitStatus(t.tenantId, started.restoreId, ['refused']);
    assert.match(refused.detail, /no consent.*nothing was changed/s);
    assert.deepEqual(writesTo(t.directory, since), []);
  });

  it('read-back verification reports a property the tenant refused to keep as partly restored', async () => {
    const t = await backedUpTenant('permanent', 20);
    const user = structuredClone(
      fx.sim.control.listObjects(t.directory, 'user').find((u) => u.data.jobTitle && u.data.department)!,
    );
    fx.sim.control.updateObject(t.directory, user.id, { jobTitle: 'Damaged', department: 'Damaged' });
    fx.sim.control.addFault({
      kind: 'ignoreProperty',
      method: 'PATCH',
      pathPrefix: `/users/${user.id}`,
      property: 'jobTitle',
    });
    try {
      const started = await requestRestore(t.tenantId, {
        snapshotId: t.snapshotId,
        objects: [{ type: 'users', id: user.id }],
      });
      const planned = await awaitStatus(t.tenantId, started.restoreId, ['awaiting-confirmation']);
      await call('POST', `/tenants/${t.tenantId}/restores/${started.restoreId}/confirmation`, {
        planHash: planned.plan.hash,
      });
      const done = await awaitStatus(t.tenantId, started.restoreId, ['completed', 'partly-completed', 'failed']);
      assert.equal(done.status, 'partly-completed');
      const [o] = done.reportDetail.objects;
      assert.equal(o.outcome, 'partly-restored');
      assert.deepEqual(
        o.differences.map((d: any) => [d.name, d.expected, d.actual]),
        [['jobTitle', user.data.jobTitle, 'Damaged']],
      );
      assert.equal(fx.sim.control.getObject(t.directory, user.id).data.department, user.data.department);
      assert.ok(done.reportDetail.fidelity.restored < done.reportDetail.fidelity.restorable);
    } finally {
      fx.sim.control.clearFaults();
    }
  });

  it('a worker killed mid-restore leaves no duplicate object, and the restore completes', async function () {
    this.timeout(600_000);
    const t = await backedUpTenant('permanent', 30);
    const victims = structuredClone(
      fx.sim.control
        .listObjects(t.directory, 'user')
        .filter((u) => !String(u.data.userPrincipalName).includes('#'))
        .slice(3, 9),
    );
    for (const v of victims) fx.sim.control.deleteObject(t.directory, v.id, { hard: true });
    const started = await requestRestore(t.tenantId, {
      snapshotId: t.snapshotId,
      objects: victims.map((v) => ({ type: 'users', id: v.id })),
    });
    const planned = await awaitStatus(t.tenantId, started.restoreId, ['awaiting-confirmation']);
    assert.equal(planned.plan.counts.recreate, victims.length);
    await worker.stop();
    const child = startWorkerProcess(fx.env);
    try {
      // Answers arrive 300 ms after Graph logged the write: killing in between loses the answer of a create that
      // landed, the hardest case for idempotence.
      // The worker process is up once the restore answers a query again (it bundles workflows first).
      await waitFor(
        'the worker process',
        async () =>
          (await call('GET', `/tenants/${t.tenantId}/restores/${started.restoreId}`)).status === 200 ? true : undefined,
        180_000,
        500,
      );
      fx.sim.control.setLatency({ baseMs: 300, jitterMs: 0 });
      const since = lastSeq();
      const confirmed = await call('POST', `/tenants/${t.tenantId}/restores/${started.restoreId}/confirmation`, {
        planHash: planned.plan.hash,
      });
      assert.equal(confirmed.status, 202, await confirmed.clone().text());
      await waitFor(
        'a user created',
        async () =>
          fx.sim.control
            .requestLog({ tenantId: t.directory, kind: 'graph', sinceSeq: since })
            .filter((e) => e.method === 'POST' && e.url.startsWith('/users') && e.status === 201).length >= 2
            ? true
            : undefined,
        120_000,
        10,
      );
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    } finally {
      fx.sim.control.setLatency({ baseMs: 0, jitterMs: 0 });
      if (child.exitCode === null) child.kill('SIGKILL');
      worker = await startWorker(fx.config);
    }
    const done = await awaitStatus(t.tenantId, started.restoreId, ['completed', 'partly-completed', 'failed'], 240_000);
    assert.equal(done.status, 'completed', JSON.stringify(done.reportDetail?.objects));
    for (const v of victims) {
      const same = fx.sim.control
        .listObjects(t.directory, 'user', { limit: 10_000 })
        .filter((u) => u.data.userPrincipalName === v.data.userPrincipalName);
      assert.equal(same.length, 1, `${String(v.data.userPrincipalName)} exists once`);
    }
  });
});

/** A worker in its own process, so the test can kill it as a crash would. */
function startWorkerProcess(env: Record<string, string>): ChildProcess {
  const root = path.resolve(__dirname, '../..');
  return spawn(process.execPath, ['--import', 'tsx', path.join(root, 'worker/main.ts')], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: 'ignore',
  });
}
