import { randomUUID } from 'node:crypto';
import express, { Router, Request, Response } from 'express';
import { SimState } from '../state';
import { authenticate } from './auth';
import { dispatch, splitPath } from './dispatch';
import { GraphContext, GraphError, GraphRequest, GraphResponse, errorResponse, json } from './types';
import { requestCost } from '../throttling/cost';
import { revokeConsent } from '../identity/consent';
import { TenantStore } from '../store/tenant';

const JSON_TYPE = 'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8';

interface Principal {
  tenant: TenantStore;
  appId: string;
  roles: Set<string>;
}

/** Numbers each HTTP request, so throttling can tell a later request from one inside the same $batch. */
let httpRequests = 0;

/**
 * Throttling + routing of one request (also used for each request inside a $batch,
 * https://learn.microsoft.com/en-us/graph/json-batching).
 */
function admitAndDispatch(
  state: SimState,
  principal: Principal,
  req: GraphRequest,
  root: string,
  httpRequest: number,
  batchId?: string,
): GraphResponse {
  const seg = splitPath(req.path);
  const { ru, write } = requestCost(req.method, seg, req.query);
  const url = req.path + (req.query.toString() ? `?${req.query.toString()}` : '');
  const decision = state.throttle.check({
    tenantId: principal.tenant.id,
    appId: principal.appId,
    size: principal.tenant.size,
    ru,
    write,
    method: req.method,
    url,
    httpRequest,
    reports: seg[0] === 'auditLogs' || seg[0] === 'reports',
  });
  let res: GraphResponse;
  if (!decision.allowed) {
    // https://learn.microsoft.com/en-us/graph/errors: https://learn.microsoft.com/en-us/graph/throttling-limits
    const size = principal.tenant.size === 'L' ? 'large' : principal.tenant.size === 'M' ? 'medium' : 'small';
    const identifier =
      decision.quota === 'Tenant'
        ? `${principal.tenant.id} under category:throttle.aad.ags.tenant`
        : decision.quota === 'Application' || decision.quota === 'Global'
          ? `${principal.appId} under category:throttle.aad.ags.app`
          : decision.quota === 'Reports'
            ? `${principal.appId}+${principal.tenant.id} under category:throttle.reports`
            : `${principal.appId}+${principal.tenant.id} under category:throttle.aad.ags.appId.${size}`;
    res = errorResponse(
      new GraphError(
        429,
        'TooManyRequests',
        `Too many requests from Identifier:${identifier}. Please try again later.`,
      ),
      req.headers['client-request-id'],
    );
    res.headers['Retry-After'] = String(decision.retryAfterSeconds);
    res.headers['x-ms-throttle-scope'] = decision.scope as string;
    res.headers['x-ms-throttle-information'] = decision.information as string;
    res.headers['x-ms-throttle-limit-percentage'] = Math.min(1.8, decision.limitFraction).toFixed(1);
  } else {
    const ctx: GraphContext = {
      state,
      tenant: principal.tenant,
      appId: principal.appId,
      roles: principal.roles,
      req,
      root,
    };
    try {
      res = dispatch(ctx);
    } catch (err) {
      if (!(err instanceof GraphError)) throw err;
      res = errorResponse(err, req.headers['client-request-id']);
    }
    res.headers['x-ms-resource-unit'] = String(ru);
    if (decision.limitFraction > 0.8)
      res.headers['x-ms-throttle-limit-percentage'] = Math.min(1.8, decision.limitFraction).toFixed(1);
  }
  res.modelMs = state.faults.delayMs(objectsIn(res));
  state.log({
    kind: 'graph',
    tenantId: principal.tenant.id,
    appId: principal.appId,
    method: req.method,
    url,
    status: res.status,
    resourceUnits: decision.allowed ? ru : 0,
    batchRequestId: batchId,
    earlyRetry: decision.early || undefined,
    modelMs: Math.round(res.modelMs),
    chain: res.chain,
  });
  return res;
}

/** Objects a response returns, for the latency model's per-object cost: a page's items, or one object. */
function objectsIn(res: GraphResponse): number {
  if (res.status >= 300 || !res.body || typeof res.body !== 'object') return 0;
  const value = (res.body as { value?: unknown }).value;
  return Array.isArray(value) ? value.length : 1;
}

/** JSON batching: https://learn.microsoft.com/en-us/graph/json-batching */
function batch(
  state: SimState,
  principal: Principal,
  body: unknown,
  root: string,
  httpRequest: number,
  headers: GraphRequest['headers'],
): GraphResponse {
  const requests = (body as { requests?: unknown } | undefined)?.requests;
  if (!Array.isArray(requests)) throw new GraphError(400, 'BadRequest', 'Invalid batch payload format.');
  if (requests.length > 20)
    throw new GraphError(400, 'BadRequest', 'Number of requests inside batch exceed the limit.');
  const ids = new Set<string>();
  for (const r of requests as Record<string, unknown>[]) {
    if (typeof r?.id !== 'string' || typeof r.method !== 'string' || typeof r.url !== 'string') {
      throw new GraphError(400, 'BadRequest', 'Invalid batch payload format: each request needs id, method and url.');
    }
    const key = r.id.toLowerCase();
    if (ids.has(key)) throw new GraphError(400, 'BadRequest', `Batch request contains duplicate id '${r.id}'.`);
    ids.add(key);
    if (r.body !== undefined && !hasContentType(r.headers)) {
      throw new GraphError(
        400,
        'BadRequest',
        'Write request id : ' + r.id + ' does not contain Content-Type header or body.',
      );
    }
  }
  const statusById = new Map<string, number>();
  const responses: Record<string, unknown>[] = [];
  let slowest = 0;
  for (const r of requests as {
    id: string;
    method: string;
    url: string;
    headers?: Record<string, string>;
    body?: unknown;
    dependsOn?: string[];
  }[]) {
    const deps = r.dependsOn ?? [];
    const failedDep = deps.find((d) => {
      const s = statusById.get(d.toLowerCase());
      return s === undefined || s >= 400;
    });
    let res: GraphResponse;
    if (failedDep !== undefined) {
      res = errorResponse(
        new GraphError(424, 'FailedDependency', `Failed dependency: request '${failedDep}' did not succeed.`),
      );
    } else {
      // graph-client sends "/v1.0/users" (it strips only scheme and host); Graph's own examples use "/users".
      let url = r.url.startsWith('/') ? r.url : `/${r.url}`;
      url = url.replace(/^\/v1\.0(?=\/)/, '');
      const parsed = new URL(`https://x${url}`);
      const innerHeaders: GraphRequest['headers'] = {};
      for (const [k, v] of Object.entries(r.headers ?? {})) innerHeaders[k.toLowerCase()] = String(v);
      innerHeaders['client-request-id'] ??= headers['client-request-id'];
      let innerBody = r.body;
      if (typeof innerBody === 'string' && /json/i.test(innerHeaders['content-type'] ?? '')) {
        try {
          innerBody = JSON.parse(Buffer.from(innerBody, 'base64').toString('utf8'));
        } catch {
          /* keep as is */
        }
      }
      res = admitAndDispatch(
        state,
        principal,
        {
          method: r.method.toUpperCase(),
          path: parsed.pathname,
          query: parsed.searchParams,
          headers: innerHeaders,
          body: innerBody,
        },
        root,
        httpRequest,
        r.id,
      );
    }
    slowest = Math.max(slowest, res.modelMs ?? 0);
    statusById.set(r.id.toLowerCase(), res.status);
    const h: Record<string, string> = { ...res.headers };
    if (res.body !== undefined) h['Content-Type'] = JSON_TYPE;
    responses.push({
      id: r.id,
      status: res.status,
      headers: h,
      ...(res.body !== undefined ? { body: res.body } : res.text !== undefined ? { body: res.text } : {}),
    });
  }
  // A $batch is answered when its slowest inner request would be (https://learn.microsoft.com/en-us/graph/json-batching:
  // the inner requests run independently; the batch's answer holds them all).
  return { ...json(200, { responses }), modelMs: slowest };
}

function hasContentType(h: unknown): boolean {
  return !!h && typeof h === 'object' && Object.keys(h).some((k) => k.toLowerCase() === 'content-type');
}

function send(res: Response, r: GraphResponse, clientRequestId: string): void {
  res.status(r.status);
  res.set('request-id', randomUUID());
  res.set('client-request-id', clientRequestId);
  res.set('OData-Version', '4.0');
  res.set('Cache-Control', 'no-cache');
  for (const [k, v] of Object.entries(r.headers)) res.set(k, v);
  if (r.text !== undefined) {
    res.setHeader('Content-Type', r.headers['Content-Type'] ?? 'text/plain');
    res.end(r.text);
  } else if (r.body !== undefined) {
    // res.end, not res.send: express would rewrite the OData media-type parameters.
    res.setHeader('Content-Type', JSON_TYPE);
    res.end(JSON.stringify(r.body));
  } else {
    res.end();
  }
}

/** Express router for https://{host}/v1.0/... */
export function graphRouter(state: SimState): Router {
  const r = Router();
  r.use(express.json({ limit: '20mb', type: () => true }));
  r.use(async (req: Request, res: Response) => {
    // The latency model is Graph's response time: the request is admitted (throttled, dispatched) when it arrives and
    // answered once the modelled time has passed, so the simulator's own work on the test machine's cores (rendering
    // a page of 999 users) is part of that time rather than added to it.
    // The time is drawn once the answer is known (it grows with the objects returned), counted from the arrival.
    const arrived = performance.now();
    let modelMs: number | undefined;
    const answered = () => {
      const wait = arrived + (modelMs ??= state.faults.delayMs()) - performance.now();
      return wait > 0 ? new Promise((resolve) => setTimeout(resolve, wait)) : Promise.resolve();
    };
    const clientRequestId = String(req.headers['client-request-id'] ?? randomUUID());
    const root = `${state.baseUrl}/v1.0`;
    const url = new URL(req.originalUrl, 'https://x');
    const path = url.pathname.replace(/^\/v1\.0/, '') || '/';
    const headers: GraphRequest['headers'] = {};
    for (const [k, v] of Object.entries(req.headers)) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(',') : v;
    const graphReq: GraphRequest = { method: req.method, path, query: url.searchParams, headers, body: req.body };
    const httpRequest = ++httpRequests;
    let principal: Principal;
    try {
      principal = authenticate(state, req.headers.authorization);
    } catch (err) {
      if (!(err instanceof GraphError)) throw err;
      state.log({ kind: 'graph', method: req.method, url: path + url.search, status: err.status });
      await answered();
      send(res, errorResponse(err, clientRequestId), clientRequestId);
      return;
    }
    const fault = state.faults.pick({
      tenantId: principal.tenant.id,
      appId: principal.appId,
      method: req.method,
      path,
    });
    /** A request answered by an injected fault or a lagging replica instead of the tenant. */
    const logFault = (status: number, kind: string) =>
      state.log({
        kind: 'graph',
        tenantId: principal.tenant.id,
        appId: principal.appId,
        method: req.method,
        url: path + url.search,
        status,
        fault: kind,
      });
    if (fault) {
      if (fault.kind === 'reset') {
        logFault(0, fault.kind);
        await answered();
        req.socket.destroy();
        return;
      }
      if (fault.kind === 'status') {
        const status = fault.status ?? 500;
        const codes: Record<number, [string, string]> = {
          500: ['InternalServerError', 'An internal server error occurred.'],
          502: ['BadGateway', 'Bad gateway.'],
          503: ['ServiceUnavailable', 'The service is temporarily unavailable. Please retry later.'],
          504: ['GatewayTimeout', 'The gateway timed out.'],
        };
        const [code, message] = codes[status] ?? codes[500];
        const headers: Record<string, string> =
          fault.retryAfterSeconds !== undefined ? { 'Retry-After': String(fault.retryAfterSeconds) } : {};
        logFault(status, fault.kind);
        await answered();
        send(res, errorResponse(new GraphError(status, code, message, headers), clientRequestId), clientRequestId);
        return;
      }
      if (fault.kind === 'throttle') {
        // Throttling answers as documented: https://learn.microsoft.com/en-us/graph/throttling
        const retryAfterSeconds = fault.retryAfterSeconds ?? 1;
        state.throttle.injectedThrottle(
          {
            tenantId: principal.tenant.id,
            appId: principal.appId,
            method: req.method,
            url: path + url.search,
            httpRequest,
          },
          retryAfterSeconds * 1000,
        );
        logFault(429, fault.kind);
        await answered();
        const error = new GraphError(429, 'TooManyRequests', 'Too many requests. Please try again later.', {
          'Retry-After': String(retryAfterSeconds),
        });
        send(res, errorResponse(error, clientRequestId), clientRequestId);
        return;
      }
      if (fault.kind === 'tokenExpiry') {
        principal.tenant.accessTokensNotBefore = state.clock.now() + 1;
        logFault(401, fault.kind);
        try {
          authenticate(state, req.headers.authorization);
        } catch (err) {
          if (!(err instanceof GraphError)) throw err;
          await answered();
          send(res, errorResponse(err, clientRequestId), clientRequestId);
        }
        return;
      }
      if (fault.kind === 'revokeConsent') {
        revokeConsent(principal.tenant, principal.appId, fault.revokeMode ?? 'assignments', state.clock.iso());
        principal = authenticate(state, req.headers.authorization);
      }
      if (fault.kind === 'ignoreProperty' && fault.property && graphReq.body && typeof graphReq.body === 'object') {
        const body = { ...(graphReq.body as Record<string, unknown>) };
        delete body[fault.property];
        graphReq.body = body;
      }
    }
    const lagging = [...state.replicaLag.keys()].find((id) => path.includes(id));
    if (lagging) {
      const left = (state.replicaLag.get(lagging) ?? 1) - 1;
      if (left <= 0) state.replicaLag.delete(lagging);
      else state.replicaLag.set(lagging, left);
      const message = `Resource '${lagging}' does not exist or one of its queried reference-property objects are not present.`;
      logFault(404, 'replicationDelay');
      await answered();
      send(
        res,
        errorResponse(new GraphError(404, 'Request_ResourceNotFound', message), clientRequestId),
        clientRequestId,
      );
      return;
    }
    let out: GraphResponse;
    try {
      if (path === '/$batch' && req.method === 'POST') {
        out = batch(state, principal, req.body, root, httpRequest, headers);
        state.log({
          kind: 'graph',
          tenantId: principal.tenant.id,
          appId: principal.appId,
          method: 'POST',
          url: '/$batch',
          status: out.status,
        });
      } else {
        out = admitAndDispatch(state, principal, graphReq, root, httpRequest);
      }
    } catch (err) {
      if (!(err instanceof GraphError)) throw err;
      out = errorResponse(err, clientRequestId);
    }
    const createdId = (out.body as { id?: unknown } | undefined)?.id;
    if (fault?.kind === 'replicationDelay' && out.status === 201 && typeof createdId === 'string') {
      state.replicaLag.set(createdId, fault.lagRequests ?? 2);
    }
    modelMs = out.modelMs;
    // Serialised before the wait: that is work of the response time too.
    if (out.body !== undefined && out.text === undefined) {
      out = { ...out, headers: { ...out.headers, 'Content-Type': JSON_TYPE }, text: JSON.stringify(out.body) };
    }
    await answered();
    send(res, out, clientRequestId);
  });
  // Malformed JSON and other express errors become Graph's 400 body.
  r.use((err: unknown, req: Request, res: Response, _next: unknown) => {
    const clientRequestId = String(req.headers['client-request-id'] ?? randomUUID());
    const status = (err as { status?: number }).status ?? 500;
    send(
      res,
      errorResponse(
        status < 500
          ? new GraphError(
              400,
              'BadRequest',
              'Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.',
            )
          : new GraphError(500, 'InternalServerError', String((err as Error).message ?? err)),
        clientRequestId,
      ),
      clientRequestId,
    );
  });
  return r;
}
