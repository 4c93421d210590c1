import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { Principal } from '../accounts/types';
import { tenantWorkflowId, type TenantRecord } from '../tenants/types';
import { tenantQuery, type tenantWorkflow } from '../workflows';
import { notFound, ProblemError } from './problem';

/** The tenant's workflow and record when the caller's reseller owns it; 404 otherwise (ids of others do not leak). */
export async function ownedTenant(
  client: Client,
  principal: Principal,
  tenantId: string,
): Promise<{ handle: WorkflowHandle<typeof tenantWorkflow>; record: TenantRecord }> {
  const handle = client.workflow.getHandle<typeof tenantWorkflow>(tenantWorkflowId(tenantId));
  try {
    const record = await handle.query(tenantQuery);
    if (record.resellerId === principal.resellerId) return { handle, record };
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError)) throw err;
  }
  throw notFound(`tenant '${tenantId}'`);
}

const statusOfRefusal: Record<string, number> = {
  InvalidInput: 400,
  ConsentStateRejected: 400,
  PlanDowngradeRefused: 409,
  TenantNotActive: 409,
};

/** Runs a tenant update; a refusal by its validator becomes a problem+json with the workflow's own reason. */
export async function tenantUpdate<T>(run: () => Promise<T>, field?: string): Promise<T> {
  try {
    return await run();
  } catch (err) {
    const cause = err instanceof WorkflowUpdateFailedError ? err.cause : undefined;
    if (cause instanceof ApplicationFailure && cause.type && statusOfRefusal[cause.type]) {
      const status = statusOfRefusal[cause.type];
      throw new ProblemError({
        title: status === 409 ? 'Conflict' : 'Invalid request',
        status,
        detail: cause.message,
        ...(field && status === 400 ? { errors: [{ field, message: cause.message }] } : {}),
      });
    }
    throw err;
  }
}
