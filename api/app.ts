import express from 'express';
import type { Client } from '@temporalio/client';
import type { Storage } from '@google-cloud/storage';
import type { AppConfig } from '../temporal.config';
import type { AccountsDirectory, AuditLog } from '../accounts/types';
import { createEncryptionCodec } from '../temporal/data-converter';
import { healthRoutes } from './routes/health';
import { diagnosticsRoutes } from './routes/diagnostics';
import { organizationRoutes } from './routes/organizations';
import { auditRoutes } from './routes/audit';
import { tenantRoutes } from './routes/tenants';
import { jobRoutes } from './routes/jobs';
import { storageLocationRoutes } from './routes/storage-locations';
import { snapshotRoutes } from './routes/snapshots';
import { exportRoutes } from './routes/exports';
import { restoreRoutes } from './routes/restores';
import { consentCallbackRoutes } from './routes/consent-callback';
import { openApiRoutes } from './routes/openapi';
import { codecRoutes } from './codec/codec-routes';
import { portalRoutes } from './portal/portal-routes';
import { PortalSessions } from './portal/session';
import { sessionRoutes } from './portal/session-routes';
import { authenticate } from './auth';
import { auditTrail } from './audit/audit-trail';
import { buildOpenApiDocument } from './openapi/document';
import { RequestValidator } from './openapi/validator';
import { notFound, problemHandler } from './problem';
import { metricsRoute, observeRequests } from './observability';
import { createLogger, type Logger } from '../observability/logger';

export interface ApiDependencies {
  config: AppConfig;
  client: Client;
  storage: Storage;
  /** Resellers, organizations and API keys (TemporalAccountsDirectory in production). */
  accounts: AccountsDirectory;
  /** Where every state-changing call is recorded (StorageAuditLog in production). */
  audit: AuditLog;
  /** Request logs; a silent logger when not given (tests). */
  log?: Logger;
}

/**
 * The Express application, without listening: main.ts serves it, tests call it over a real socket.
 *
 * Order matters: the audit trail sees every state-changing request (refusals included); the codec endpoint has its
 * own operator authentication; then every route needs an API key except operations the OpenAPI document declares
 * `security: []`; then the request is validated against the document; then the routes run.
 */
export function createApp(deps: ApiDependencies): express.Express {
  const app = express();
  app.disable('x-powered-by');
  const document = buildOpenApiDocument();
  const validator = new RequestValidator(document);
  const bucket = deps.config.storage.defaultBucket;
  const log = deps.log ?? createLogger({ service: 'api', level: 'silent' });

  app.use(observeRequests(log, (req) => validator.operations.find(req.method, req.path)?.path));
  // Prometheus scrapes without an API key, like /healthz: the series carry no tenant or reseller id.
  app.get('/metrics', metricsRoute(deps.client, log));

  app.use(
    auditTrail(deps.audit, {
      skip: (req) => req.path === '/codec/decode' || req.path === '/codec/encode',
      actionOf: (req) => validator.operations.find(req.method, req.path)?.operation['x-audit-action'],
      changesState: (req) => validator.operations.find(req.method, req.path)?.operation['x-audit-action'] !== undefined,
    }),
  );
  app.use(
    codecRoutes({
      codec: createEncryptionCodec(deps.config.temporal.payloadEncryption),
      config: deps.config.api.codec,
      namespace: deps.config.temporal.namespace,
    }),
  );
  app.use(portalRoutes({ temporalWebUiUrl: deps.config.temporal.webUiUrl, namespace: deps.config.temporal.namespace }));
  const sessions = new PortalSessions({
    secret: deps.config.api.portal.sessionSecret,
    lifetimeMs: deps.config.api.portal.sessionLifetimeMs,
  });
  app.use(express.json({ limit: '100kb' }));
  app.use(
    authenticate(deps.accounts, {
      isPublic: (req) => validator.operations.find(req.method, req.path)?.isPublic,
      sessions,
    }),
  );
  app.use(validator.validateRequest);

  app.use(
    healthRoutes({ client: deps.client, storage: deps.storage, bucket, namespace: deps.config.temporal.namespace }),
  );
  app.use(openApiRoutes({ document }));
  app.use(diagnosticsRoutes({ client: deps.client, taskQueue: deps.config.temporal.taskQueue, bucket }));
  app.use(organizationRoutes({ accounts: deps.accounts }));
  app.use(auditRoutes({ audit: deps.audit }));
  app.use(tenantRoutes({ client: deps.client, accounts: deps.accounts, config: deps.config }));
  app.use(jobRoutes({ client: deps.client }));
  app.use(storageLocationRoutes({ locations: deps.config.storage.locations }));
  app.use(snapshotRoutes({ client: deps.client, storage: deps.storage, masterKey: deps.config.storage.masterKey }));
  app.use(exportRoutes({ client: deps.client, storage: deps.storage, config: deps.config }));
  app.use(restoreRoutes({ client: deps.client, storage: deps.storage, config: deps.config }));
  app.use(sessionRoutes({ accounts: deps.accounts, sessions, publicUrl: deps.config.api.publicUrl }));
  app.use(consentCallbackRoutes({ client: deps.client, stateKey: deps.config.entra.consentStateKey }));

  app.use((req) => {
    throw notFound(`${req.method} ${req.path}`);
  });
  app.use(problemHandler);
  return app;
}
