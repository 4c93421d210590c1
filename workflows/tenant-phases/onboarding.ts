import { ApplicationFailure, setHandler } from '@temporalio/workflow';
import { PLANS, type TenantRecord } from '../../tenants/types';
import { changePlanUpdate, tenantQuery } from '../tenant-messages';
import type { PendingConsent, TenantState } from './state';

/** A new tenant's record: added, waiting for the Backup app's consent. */
export function newTenantState(input: {
  tenant: TenantState['tenant'];
  carried?: { record: TenantRecord; pending: PendingConsent[]; firstBackupTriggered: boolean };
}): TenantState {
  const t = input.tenant;
  return {
    tenant: t,
    record: input.carried?.record ?? {
      tenantId: t.tenantId,
      resellerId: t.resellerId,
      organizationId: t.organizationId,
      directory: t.directory,
      storage: t.storage,
      plan: t.plan,
      backupImmediately: t.backupImmediately,
      status: 'awaiting-consent',
      backupApp: { state: 'not-requested' },
      restoreApp: { state: 'not-requested', mode: 'none' },
      schedulePaused: false,
      createdAt: t.createdAt,
    },
    pending: input.carried?.pending ?? [],
    firstBackupTriggered: input.carried?.firstBackupTriggered ?? false,
    callbacks: [],
    authFailures: [],
    statusChanged: false,
  };
}

/** What holds in every phase: the record can be read, and the plan changed (never down from Archiver). */
export function registerRecordHandlers(state: TenantState): void {
  const { record } = state;
  setHandler(tenantQuery, () => record);
  setHandler(
    changePlanUpdate,
    ({ plan }) => {
      record.plan = plan;
      return record;
    },
    {
      validator: ({ plan }) => {
        if (!PLANS.includes(plan))
          throw ApplicationFailure.create({ type: 'InvalidInput', message: `unknown plan '${plan}'` });
        if (record.plan === 'archiver' && plan !== 'archiver') {
          throw ApplicationFailure.create({
            type: 'PlanDowngradeRefused',
            message: 'the Archiver plan can never be downgraded: archived history must stay kept',
          });
        }
      },
    },
  );
}
