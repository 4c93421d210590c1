import { Router, type Response } from 'express';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { verifyConsentState } from '../../tenants/consent-state';
import { tenantWorkflowId } from '../../tenants/types';
import { consentCallbackUpdate, type tenantWorkflow } from '../../workflows';
import { auditAs } from '../audit/audit-trail';
import { badRequest } from '../problem';
import { tenantUpdate } from '../owned-tenants';

/**
 * Where Microsoft's admin-consent flow sends the admin's browser back
 * (https://learn.microsoft.com/entra/identity-platform/v2-admin-consent): `admin_consent=True&tenant&scope&state`
 * on success, `error&error_description&state` (no tenant) when declined. Unauthenticated by nature, so everything
 * rests on the signed, single-use `state`: a forged, expired, replayed or mismatched one changes nothing.
 */
export function consentCallbackRoutes(deps: { client: Client; stateKey: string }): Router {
  const router = Router();
  router.get('/consent/callback', async (req, res) => {
    const q = req.query as Record<string, string | undefined>;
    if (!q.state) throw badRequest('query.state', 'missing');
    const check = verifyConsentState(q.state, deps.stateKey);
    if (!check.ok) throw badRequest('query.state', `refused: ${check.reason}`);
    const { tenantId, app, nonce } = check.claims;
    auditAs(res, 'consent.callback', `tenant:${tenantId}`, `${app} app`);
    const declined = q.error !== undefined;
    if (!declined && q.admin_consent !== 'True') throw badRequest('query.admin_consent', "must be 'True'");
    const handle = deps.client.workflow.getHandle<typeof tenantWorkflow>(tenantWorkflowId(tenantId));
    try {
      await tenantUpdate(
        () =>
          handle.executeUpdate(consentCallbackUpdate, {
            args: [
              declined
                ? { app, nonce, outcome: 'declined', error: `${q.error}: ${q.error_description ?? ''}`.trim() }
                : { app, nonce, outcome: 'granted', reportedTenantId: q.tenant },
            ],
          }),
        'query.state',
      );
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw badRequest('query.state', 'refused: unknown tenant');
      throw err;
    }
    respond(
      res,
      declined
        ? 'Consent was declined. The request is recorded; you can close this window.'
        : 'Thank you: consent received. entra-backup is verifying it now; you can close this window.',
    );
  });
  return router;
}

function respond(res: Response, message: string): void {
  if (res.req.accepts(['html', 'json']) === 'json') {
    res.json({ message });
    return;
  }
  res.type('html').send(`<!doctype html><meta charset="utf-8"><title>entra-backup</title><p>${message}</p>`);
}
