import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { ProblemError } from '../problem';
import { OperationIndex } from './operations';
import type { JsonSchema, OpenApiDocument, OperationObject } from './types';

interface CompiledOperation {
  body?: ValidateFunction;
  bodyRequired: boolean;
  path?: ValidateFunction;
  query?: ValidateFunction;
}

type FieldError = { field: string; message: string };

const componentsId = 'openapi-components';

/** OpenAPI's `#/components/schemas/X` pointers, re-aimed at the one schema Ajv holds all components in. */
function retarget(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(retarget);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [
        k,
        k === '$ref' && typeof v === 'string' && v.startsWith('#/components/schemas/')
          ? `${componentsId}#/$defs/${v.slice('#/components/schemas/'.length)}`
          : retarget(v),
      ]),
    );
  }
  return value;
}

function newAjv(coerceTypes: boolean): Ajv2020 {
  const ajv = new Ajv2020({ allErrors: true, strict: true, coerceTypes });
  addFormats(ajv);
  // OpenAPI annotations that are not JSON Schema keywords.
  for (const keyword of ['example', 'discriminator', 'xml', 'externalDocs']) ajv.addKeyword(keyword);
  // `x-refused: message`: a property that is never accepted, refused with a message that says what to send instead.
  const refused = Object.assign((message: string) => ((refused.errors = [{ message }]), false), {
    errors: [] as Partial<ErrorObject>[],
  });
  ajv.addKeyword({ keyword: 'x-refused', schemaType: 'string', errors: true, validate: refused });
  return ajv;
}

function fieldErrors(location: 'body' | 'path' | 'query', errors: ErrorObject[] | null | undefined): FieldError[] {
  const seen = new Set<string>();
  const result: FieldError[] = [];
  for (const error of errors ?? []) {
    const segments = error.instancePath
      .split('/')
      .slice(1)
      .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
    let message = error.message ?? 'is invalid';
    if (error.keyword === 'required') {
      segments.push((error.params as { missingProperty: string }).missingProperty);
      message = 'is required';
    } else if (error.keyword === 'additionalProperties') {
      segments.push((error.params as { additionalProperty: string }).additionalProperty);
      message = 'is not allowed';
    }
    const field = [location, ...segments].join('.');
    const key = `${field}\n${message}`;
    if (!seen.has(key)) {
      seen.add(key);
      result.push({ field, message });
    }
  }
  return result;
}

export function invalidRequest(errors: FieldError[]): ProblemError {
  return new ProblemError({
    title: 'Invalid request',
    status: 400,
    detail: errors.map((e) => `${e.field} ${e.message}`).join('; '),
    errors,
  });
}

/**
 * Request validation driven by the OpenAPI document: body, path and query parameters of every operation are checked
 * with Ajv (JSON Schema 2020-12, as OpenAPI 3.1 uses) before any handler runs, so an invalid request changes nothing.
 * Schemas compile once, when the app is created.
 */
export class RequestValidator {
  readonly operations: OperationIndex;
  private readonly compiled = new Map<OperationObject, CompiledOperation>();

  constructor(document: OpenApiDocument) {
    this.operations = new OperationIndex(document);
    const strictAjv = newAjv(false);
    // Parameters arrive as strings: `?limit=5` must satisfy `type: integer`.
    const coercingAjv = newAjv(true);
    const components = {
      $id: componentsId,
      $defs: retarget(document.components.schemas) as Record<string, JsonSchema>,
    };
    strictAjv.addSchema(components);
    coercingAjv.addSchema(components);
    for (const { operation } of this.operations.all()) {
      const bodySchema = operation.requestBody?.content['application/json']?.schema;
      const parameters = (location: 'path' | 'query') => {
        const list = (operation.parameters ?? []).filter((p) => p.in === location);
        if (list.length === 0) return undefined;
        return coercingAjv.compile(
          retarget({
            type: 'object',
            properties: Object.fromEntries(list.map((p) => [p.name, p.schema])),
            required: list.filter((p) => p.required || location === 'path').map((p) => p.name),
          }) as JsonSchema,
        );
      };
      this.compiled.set(operation, {
        body: bodySchema ? strictAjv.compile(retarget(bodySchema) as JsonSchema) : undefined,
        bodyRequired: operation.requestBody?.required ?? false,
        path: parameters('path'),
        query: parameters('query'),
      });
    }
  }

  /** Router-wide: validates whatever operation of the document the request is for; unknown routes pass through. */
  readonly validateRequest: RequestHandler = (req: Request, _res: Response, next: NextFunction) => {
    const matched = this.operations.find(req.method, req.path);
    if (matched) this.check(matched.operation, req, matched.pathParams);
    next();
  };

  /** For one route, by operationId (when a router is mounted where the router-wide check does not run). */
  validate(operationId: string): RequestHandler {
    const found = this.operations.byOperationId(operationId);
    if (!found) throw new Error(`OpenAPI: no operation '${operationId}'`);
    return (req: Request, _res: Response, next: NextFunction) => {
      this.check(found.operation, req, req.params as Record<string, string>);
      next();
    };
  }

  private check(operation: OperationObject, req: Request, pathParams: Record<string, string>): void {
    const compiled = this.compiled.get(operation)!;
    const errors: FieldError[] = [];
    if (compiled.path && !compiled.path({ ...pathParams })) errors.push(...fieldErrors('path', compiled.path.errors));
    if (compiled.query && !compiled.query({ ...(req.query as object) })) {
      errors.push(...fieldErrors('query', compiled.query.errors));
    }
    if (req.body === undefined) {
      if (compiled.bodyRequired) errors.push({ field: 'body', message: 'is required (a JSON document)' });
    } else if (compiled.body && !compiled.body(req.body)) {
      errors.push(...fieldErrors('body', compiled.body.errors));
    }
    if (errors.length > 0) throw invalidRequest(errors);
  }
}
