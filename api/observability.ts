import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Client } from '@temporalio/client';
import { SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
import { tracer } from '../observability/tracing';
import { metrics, registry } from '../observability/metrics';
import type { Logger } from '../observability/logger';
import { searchAttributeNames } from '../workflow-constants';
import type { Principal } from '../accounts/types';

/**
 * One log record and one count per request, by route template (the OpenAPI path, e.g. /tenants/{tenantId}; `other`
 * for the portal's files and the codec endpoint), never the URL: a query can hold the consent callback's code and
 * state, a path holds ids that would make a series per tenant.
 */
export function observeRequests(log: Logger, routeOf: (req: Request) => string | undefined): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const started = performance.now();
    const route = routeOf(req) ?? 'other';
    // The root of a job's trace: the Temporal client's interceptor makes the start, signal or update its child.
    const span = tracer.startSpan(`${req.method} ${route}`, {
      kind: SpanKind.SERVER,
      attributes: { 'http.request.method': req.method, 'http.route': route },
    });
    res.once('finish', () => {
      const status = String(res.statusCode);
      span.setAttribute('http.response.status_code', res.statusCode);
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
      const seconds = (performance.now() - started) / 1000;
      metrics.apiRequests.inc({ method: req.method, route, status });
      metrics.apiRequestDuration.observe({ method: req.method, route }, seconds);
      if (route === '/metrics' || route === '/healthz') return;
      const principal = res.locals.principal as Principal | undefined;
      const params = req.params as Record<string, string | undefined>;
      log.info(
        {
          method: req.method,
          route,
          status: res.statusCode,
          ms: Math.round(seconds * 1000),
          resellerId: principal?.resellerId,
          tenantId: params.tenantId ?? tenantIdOfPath(req.path),
        },
        `${req.method} ${route} ${status}`,
      );
    });
    context.with(trace.setSpan(context.active(), span), () => next());
  };
}

function tenantIdOfPath(path: string): string | undefined {
  return /^\/tenants\/([0-9a-f-]{36})(\/|$)/i.exec(path)?.[1];
}

const TENANT_STATUSES = ['awaiting-consent', 'active', 'reauthorization-required', 'backups-failing'] as const;

/**
 * GET /metrics: the API's series, and tenants by status counted in Temporal's visibility at scrape time (one count
 * per status, so every replica reports the same figures; a dashboard takes max, not sum).
 */
export function metricsRoute(client: Client, log: Logger): RequestHandler {
  return (_req, res) => {
    void (async () => {
      try {
        await Promise.all(
          TENANT_STATUSES.map(async (status) => {
            const { count } = await client.workflow.count(
              `WorkflowType = 'tenantWorkflow' AND ExecutionStatus = 'Running' AND ${searchAttributeNames.jobStatus} = '${status}'`,
            );
            metrics.tenantsByStatus.set({ status }, count);
          }),
        ).catch((err: Error) => log.warn({ err: err.message }, 'tenant counts for /metrics failed'));
        res.type(registry.contentType).send(await registry.metrics());
      } catch (err) {
        log.error({ err }, 'metrics scrape failed');
        res.status(500).end();
      }
    })();
  };
}
