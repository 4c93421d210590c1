import express, { Router, Request, Response } from 'express';
import { SimulatorControl, SimulatorError } from './controller';
import { EntityKind } from '../store/types';

type Handler = (
  c: SimulatorControl,
  p: Record<string, string>,
  body: Record<string, unknown>,
  q: Record<string, string>,
) => unknown;

/**
 * The HTTP control API, one route per SimulatorControl method (see README.md). Prefix: /_control.
 * Exported as a table so the control client and the README stay in step with it.
 */
export const CONTROL_ROUTES: [method: 'get' | 'post' | 'put' | 'patch' | 'delete', path: string, handler: Handler][] = [
  ['get', '/info', (c) => c.info()],
  ['post', '/tenants', (c, _p, b) => c.createTenant(b)],
  ['get', '/tenants', (c) => c.listTenants()],
  ['get', '/tenants/:tenantId', (c, p) => c.getTenant(p.tenantId)],
  ['delete', '/tenants/:tenantId', (c, p) => c.deleteTenant(p.tenantId)],
  ['post', '/apps', (c, _p, b) => c.registerApp(b as never)],
  ['get', '/apps', (c) => c.listApps()],
  ['post', '/tenants/:tenantId/consent/:clientId', (c, p) => c.grantConsent(p.tenantId, p.clientId)],
  [
    'delete',
    '/tenants/:tenantId/consent/:clientId',
    (c, p, _b, q) =>
      c.revokeConsent(p.tenantId, p.clientId, q.mode === 'servicePrincipal' ? 'servicePrincipal' : 'assignments'),
  ],
  ['put', '/tenants/:tenantId/consent-mode', (c, p, b) => c.setConsentMode(p.tenantId, b.mode as never)],
  ['get', '/tenants/:tenantId/objects/:id', (c, p) => c.getObject(p.tenantId, p.id)],
  [
    'get',
    '/tenants/:tenantId/kinds/:kind',
    (c, p, _b, q) => c.listObjects(p.tenantId, p.kind as EntityKind, { limit: q.limit ? Number(q.limit) : undefined }),
  ],
  ['post', '/tenants/:tenantId/kinds/:kind', (c, p, b) => c.createObject(p.tenantId, p.kind as EntityKind, b)],
  ['patch', '/tenants/:tenantId/objects/:id', (c, p, b) => c.updateObject(p.tenantId, p.id, b)],
  [
    'delete',
    '/tenants/:tenantId/objects/:id',
    (c, p, _b, q) => c.deleteObject(p.tenantId, p.id, { hard: q.hard === 'true' }),
  ],
  ['post', '/tenants/:tenantId/objects/:id/restore', (c, p) => c.restoreObject(p.tenantId, p.id)],
  ['get', '/tenants/:tenantId/groups/:groupId/members', (c, p) => c.listMembers(p.tenantId, p.groupId)],
  [
    'post',
    '/tenants/:tenantId/groups/:groupId/members/:memberId',
    (c, p) => c.addMember(p.tenantId, p.groupId, p.memberId),
  ],
  [
    'delete',
    '/tenants/:tenantId/groups/:groupId/members/:memberId',
    (c, p) => c.removeMember(p.tenantId, p.groupId, p.memberId),
  ],
  ['post', '/tenants/:tenantId/objects/:id/owners/:ownerId', (c, p) => c.addOwner(p.tenantId, p.id, p.ownerId)],
  ['delete', '/tenants/:tenantId/objects/:id/owners/:ownerId', (c, p) => c.removeOwner(p.tenantId, p.id, p.ownerId)],
  ['post', '/tenants/:tenantId/app-role-assignments', (c, p, b) => c.assignAppRole(p.tenantId, b as never)],
  [
    'post',
    '/tenants/:tenantId/applications/:id/federated-identity-credentials',
    (c, p, b) => c.addFederatedIdentityCredential(p.tenantId, p.id, b),
  ],
  ['put', '/tenants/:tenantId/audit-retention', (c, p, b) => c.setAuditRetention(p.tenantId, Number(b.days))],
  ['post', '/tenants/:tenantId/expire-delta-tokens', (c, p) => c.expireDeltaTokens(p.tenantId)],
  ['post', '/tenants/:tenantId/expire-access-tokens', (c, p) => c.expireAccessTokens(p.tenantId)],
  ['post', '/clock/advance', (c, _p, b) => c.advanceClock(Number(b.ms))],
  [
    'get',
    '/requests',
    (c, _p, _b, q) =>
      c.requestLog({
        tenantId: q.tenantId,
        appId: q.appId,
        kind: q.kind as never,
        sinceSeq: q.sinceSeq !== undefined ? Number(q.sinceSeq) : undefined,
      }),
  ],
  ['delete', '/requests', (c) => c.clearRequestLog()],
  ['get', '/usage', (c, _p, _b, q) => c.usage({ tenantId: q.tenantId, appId: q.appId })],
  ['put', '/throttling', (c, _p, b, q) => c.setThrottling(b, q.tenantId)],
  ['delete', '/throttling/state', (c) => c.resetThrottling()],
  ['put', '/faults', (c, _p, b) => c.setFaults((b.rules ?? []) as never, b.seed as number | undefined)],
  ['post', '/faults', (c, _p, b) => c.addFault(b as never)],
  ['get', '/faults', (c) => c.faultStatus()],
  ['delete', '/faults', (c) => c.clearFaults()],
  ['put', '/latency', (c, _p, b) => c.setLatency(b as never)],
];

export function controlRouter(control: SimulatorControl): Router {
  const r = Router();
  r.use(express.json({ limit: '5mb' }));
  for (const [method, path, handler] of CONTROL_ROUTES) {
    r[method](path, (req: Request, res: Response) => {
      try {
        const out = handler(
          control,
          req.params as Record<string, string>,
          (req.body ?? {}) as Record<string, unknown>,
          req.query as Record<string, string>,
        );
        if (out === undefined) res.status(204).end();
        else res.json(out);
      } catch (err) {
        const status = err instanceof SimulatorError ? err.status : 400;
        res.status(status).json({ error: (err as Error).message });
      }
    });
  }
  return r;
}
