import type { Storage } from '@google-cloud/storage';
import type { Client } from '@temporalio/client';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { GraphError } from '@microsoft/microsoft-graph-client';
import type { EntraConfig } from '../../temporal.config';
import type { StorageLocation, TenantRecord } from '../../tenants/types';
import { tenantWorkflowId } from '../../tenants/types';
import type { Repository } from '../../storage/repository';
import { openTenantRepository, planDocument, progressDocument, reportDocument } from '../../restore/tenant-repository';
import type { PlanSummary, ReportSummary, RestorePlan, RestoreReport, RestoreTarget } from '../../restore/types';
import { requestConsentUpdate, restoreConsentUsedUpdate, tenantQuery } from '../../workflows/tenant-messages';
import { TenantGraph } from '../graph/tenant-graph';
import type { TokenProvider } from '../graph/token-provider';
import { RestoreGraph, isStatus } from './restore-graph';
import { UnknownObjectError, computePlan, countPlan, planHash, readCaptured, readRelated } from './plan';
import {
  applyAssignments,
  applyGrants,
  applyMemberships,
  applyObject,
  applyRemaps,
  applyRoleAssignments,
  applyScopedRoleMembers,
  emptyProgress,
  type RestoreProgress,
} from './apply';
import { verifyRestore } from './verify';
import { withTemporalDeadline } from '../temporal-calls';

export interface RestoreActivityDependencies {
  entra: EntraConfig;
  tokens: TokenProvider;
  storage: Storage;
  masterKey: string;
  temporal: Client;
}

interface RestoreRef {
  restoreId: string;
  tenantId: string;
  resellerId: string;
  directory: string;
  storage: StorageLocation;
}

export function createRestoreActivities(deps: RestoreActivityDependencies) {
  const repo = (tenant: RestoreRef): Promise<Repository> => openTenantRepository(deps.storage, deps.masterKey, tenant);
  // The Restore app's token only: the Backup app stays read-only (issue 13, item 1).
  const graphFor = (directory: string) =>
    new RestoreGraph(TenantGraph.forApp(deps.entra, deps.tokens, 'restore', directory), deps.entra.graphBaseUrl);
  const tenant = (tenantId: string) => deps.temporal.workflow.getHandle(tenantWorkflowId(tenantId));

  async function loadPlan(r: Repository, restoreId: string): Promise<RestorePlan> {
    const plan = await r.readDocument<RestorePlan>(planDocument(restoreId));
    if (!plan) throw ApplicationFailure.nonRetryable(`the plan of restore ${restoreId} is missing`, 'PlanMissing');
    return plan;
  }

  return {
    /** The Restore app's consent as the tenant record shows it. */
    async restoreConsentOf(input: { tenantId: string }): Promise<TenantRecord['restoreApp']> {
      return (await withTemporalDeadline(deps.temporal, () => tenant(input.tenantId).query(tenantQuery))).restoreApp;
    },

    /** Asks the tenant workflow for a one-time Restore consent; returns the URL an admin opens. */
    async requestOneTimeRestoreConsent(input: {
      tenantId: string;
    }): Promise<{ consentUrl: string; expiresAt: string }> {
      return withTemporalDeadline(deps.temporal, () =>
        tenant(input.tenantId).executeUpdate(requestConsentUpdate, {
          args: [{ app: 'restore', mode: 'one-time' }],
        }),
      );
    },

    async markRestoreConsentUsed(input: { tenantId: string; restoreId: string; note: string }): Promise<void> {
      await withTemporalDeadline(deps.temporal, () =>
        tenant(input.tenantId).executeUpdate(restoreConsentUsedUpdate, {
          args: [{ restoreId: input.restoreId, note: input.note }],
        }),
      );
    },

    /**
     * Removes the Restore app's application permissions in the customer's tenant (its service principal's
     * appRoleAssignments), which AppRoleAssignment.ReadWrite.All allows
     * (https://learn.microsoft.com/en-us/graph/api/serviceprincipal-delete-approleassignments?view=graph-rest-1.0).
     * Where Graph refuses, the answer says what an admin must remove by hand.
     */
    async revokeRestoreAppRoles(input: { directory: string }): Promise<{ removed: number; manual?: string }> {
      const graph = graphFor(input.directory);
      const clientId = deps.entra.restoreApp.clientId ?? '';
      const manual = `remove the application permissions of the enterprise application with appId ${clientId} (Restore app) in Entra admin center > Enterprise applications > Permissions`;
      let removed = 0;
      try {
        const sps = await graph.readAll<{ id: string }>(`/servicePrincipals?$filter=appId eq '${clientId}'`);
        const assignments: { id: string; principalId: string; resourceId: string; appRoleId: string }[] = [];
        for (const sp of sps) {
          assignments.push(
            ...(await graph.readAll<(typeof assignments)[number]>(`/servicePrincipals/${sp.id}/appRoleAssignments`)),
          );
        }
        // The permission that allows removing the others goes last (each removal takes effect at once).
        const roleNames = new Map<string, string>();
        for (const resourceId of new Set(assignments.map((a) => a.resourceId))) {
          const resource = await graph.get<{ appRoles?: { id: string; value: string }[] }>(
            `/servicePrincipals/${resourceId}?$select=appRoles`,
          );
          for (const r of resource.appRoles ?? []) roleNames.set(r.id, r.value);
        }
        const last = (a: (typeof assignments)[number]) =>
          roleNames.get(a.appRoleId) === 'AppRoleAssignment.ReadWrite.All' ? 1 : 0;
        for (const a of [...assignments].sort((x, y) => last(x) - last(y))) {
          try {
            await graph.delete(`/servicePrincipals/${a.principalId}/appRoleAssignments/${encodeURIComponent(a.id)}`);
            removed++;
          } catch (err) {
            if (!isStatus(err, 404)) throw err;
          }
        }
        return { removed };
      } catch (err) {
        // Our own permission to remove them may be the first thing gone (403), or the token refused (401).
        if (err instanceof GraphError && (err.statusCode === 403 || err.statusCode === 401)) return { removed, manual };
        throw err;
      }
    },

    /** Computes the plan against the live tenant, stores it in the tenant's bucket and returns its key and hash. */
    async planRestore(
      input: RestoreRef & {
        tenantId: string;
        snapshotId: string;
        objects: RestoreTarget[];
        conditionalAccessState: RestorePlan['conditionalAccessState'];
        createdAt: string;
      },
    ): Promise<PlanSummary> {
      const r = await repo(input);
      let captured;
      try {
        captured = await readCaptured(r, input.snapshotId, input.objects);
      } catch (err) {
        if (err instanceof UnknownObjectError) throw ApplicationFailure.nonRetryable(err.message, 'UnknownObject');
        throw err;
      }
      const related = await readRelated(r, input.snapshotId, input.objects);
      const plan = await computePlan(
        graphFor(input.directory),
        captured,
        {
          restoreId: input.restoreId,
          tenantId: input.tenantId,
          snapshotId: input.snapshotId,
          createdAt: input.createdAt,
          conditionalAccessState: input.conditionalAccessState,
        },
        related,
      );
      const key = planDocument(input.restoreId);
      await r.writeDocument(key, plan);
      return { key, hash: planHash(plan), counts: countPlan(plan) };
    },

    /** Applies the plan's objects of the given types (one dependency stage), carrying on from stored progress. */
    async applyRestoreStage(input: RestoreRef & { planHash: string; types: string[] }): Promise<{ writes: number }> {
      const r = await repo(input);
      const plan = await loadPlan(r, input.restoreId);
      if (planHash(plan) !== input.planHash) {
        throw ApplicationFailure.nonRetryable('the stored plan is not the confirmed one', 'PlanChanged');
      }
      const progress = (await r.readDocument<RestoreProgress>(progressDocument(input.restoreId))) ?? emptyProgress();
      const graph = graphFor(input.directory);
      const save = async () => {
        progress.writes += graph.writes;
        graph.writes = 0;
        await r.writeDocument(progressDocument(input.restoreId), progress);
      };
      for (const o of plan.objects.filter((x) => input.types.includes(x.type))) {
        if (progress.done.includes(o.id) || o.action === 'unchanged' || o.action === 'impossible') continue;
        // A named role assignment is written with the plan's role assignments (applyRoleAssignments below).
        if (o.type === 'roleAssignments') continue;
        Context.current().heartbeat(o.id);
        try {
          await applyObject(graph, plan, o, progress, save);
        } catch (err) {
          // Graph refused this object (a 4xx): recorded, and the restore goes on with the others.
          if (!(err instanceof GraphError) || err.statusCode >= 500 || err.statusCode === 429) throw err;
          progress.failures[o.id] = `Graph answered ${err.statusCode} ${err.code ?? ''}: ${err.message}`;
        }
        progress.done.push(o.id);
        await save();
      }
      if (input.types.includes('appRoleAssignments') && plan.appRoleAssignments.length > 0) {
        Context.current().heartbeat('appRoleAssignments');
        await applyAssignments(graph, plan, progress);
        await save();
      }
      if (input.types.includes('oauth2PermissionGrants') && plan.oauth2PermissionGrants.length > 0) {
        Context.current().heartbeat('oauth2PermissionGrants');
        await applyGrants(graph, plan, progress);
        await save();
      }
      if (input.types.includes('memberships') && plan.memberships.length > 0) {
        Context.current().heartbeat('memberships');
        await applyMemberships(graph, plan, progress);
        await save();
      }
      if (input.types.includes('roleAssignments') && (plan.roleAssignments?.length ?? 0) > 0) {
        Context.current().heartbeat('roleAssignments');
        await applyRoleAssignments(graph, plan, progress);
        await save();
      }
      if (input.types.includes('roleAssignments') && (plan.scopedRoleMembers?.length ?? 0) > 0) {
        Context.current().heartbeat('scopedRoleMembers');
        await applyScopedRoleMembers(graph, plan, progress);
        await save();
      }
      if (input.types.includes('conditionalAccessPolicies')) {
        await applyRemaps(graph, plan, progress);
        await save();
      }
      return { writes: progress.writes };
    },

    /** Reads every touched object back, compares it with the snapshot and stores the report. */
    async verifyRestore(input: RestoreRef): Promise<ReportSummary> {
      const r = await repo(input);
      const plan = await loadPlan(r, input.restoreId);
      const progress = (await r.readDocument<RestoreProgress>(progressDocument(input.restoreId))) ?? emptyProgress();
      const captured = await readCaptured(r, plan.snapshotId, plan.objects);
      const report: RestoreReport = await verifyRestore(graphFor(input.directory), plan, captured, progress);
      const key = reportDocument(input.restoreId);
      await r.writeDocument(key, report);
      const n = (o: string) => report.objects.filter((x) => x.outcome === o).length;
      return {
        key,
        restored: n('restored'),
        partlyRestored: n('partly-restored'),
        failed: n('failed'),
        unchanged: n('unchanged'),
        fidelity: report.fidelity,
        writeRequests: progress.writes,
      };
    },
  };
}
