import type { HttpMethod, OpenApiDocument, OperationObject } from './types';

export interface MatchedOperation {
  method: HttpMethod;
  path: string;
  operation: OperationObject;
  /** Decoded values of the template's `{params}`. */
  pathParams: Record<string, string>;
  /** `security: []`: no API key needed. */
  isPublic: boolean;
}

interface IndexedOperation {
  method: HttpMethod;
  path: string;
  operation: OperationObject;
  pattern: RegExp;
  paramNames: string[];
  literalSegments: number;
}

const methods: HttpMethod[] = ['get', 'post', 'put', 'patch', 'delete'];

/** Finds the document's operation for a method and a concrete path, before Express's own routing runs. */
export class OperationIndex {
  private readonly operations: IndexedOperation[] = [];

  constructor(private readonly document: OpenApiDocument) {
    for (const [path, item] of Object.entries(document.paths)) {
      const paramNames: string[] = [];
      const source = path
        .split('/')
        .map((segment) =>
          segment.replace(/\{([^}]+)\}|[^{}]+/g, (part, name?: string) => {
            if (name) {
              paramNames.push(name);
              return '([^/]+)';
            }
            return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
          }),
        )
        .join('/');
      const literalSegments = path.split('/').filter((s) => s && !s.includes('{')).length;
      for (const method of methods) {
        const operation = item[method];
        if (operation) {
          this.operations.push({
            method,
            path,
            operation,
            pattern: new RegExp(`^${source}/?$`),
            paramNames,
            literalSegments,
          });
        }
      }
    }
    // `/a/b` wins over `/a/{id}`.
    this.operations.sort((x, y) => y.literalSegments - x.literalSegments);
  }

  find(httpMethod: string, path: string): MatchedOperation | undefined {
    const method = (httpMethod === 'HEAD' ? 'get' : httpMethod.toLowerCase()) as HttpMethod;
    for (const candidate of this.operations) {
      if (candidate.method !== method) continue;
      const match = candidate.pattern.exec(path);
      if (!match) continue;
      const pathParams: Record<string, string> = {};
      try {
        candidate.paramNames.forEach((name, i) => (pathParams[name] = decodeURIComponent(match[i + 1])));
      } catch {
        return undefined;
      }
      const security = candidate.operation.security ?? this.document.security;
      return {
        method,
        path: candidate.path,
        operation: candidate.operation,
        pathParams,
        isPublic: security.length === 0,
      };
    }
    return undefined;
  }

  byOperationId(operationId: string): { method: HttpMethod; path: string; operation: OperationObject } | undefined {
    return this.operations.find((o) => o.operation.operationId === operationId);
  }

  all(): { method: HttpMethod; path: string; operation: OperationObject }[] {
    return this.operations;
  }
}
