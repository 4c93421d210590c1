import { securitySchemes, sharedResponses, sharedSchemas } from './components';
import { pathFragments } from './paths';
import type { OpenApiDocument, PathsFragment } from './types';

/** Merges the fragments into one document; two fragments defining the same operation or schema is a bug. */
export function buildOpenApiDocument(fragments: PathsFragment[] = pathFragments): OpenApiDocument {
  const document: OpenApiDocument = {
    openapi: '3.1.0',
    info: {
      title: 'entra-backup',
      version: '0.1.0',
      description:
        'Daily backups of Microsoft Entra ID tenants for resellers. Errors are application/problem+json (RFC 9457).',
    },
    tags: [],
    security: [{ bearerApiKey: [] }, { apiKeyHeader: [] }],
    paths: {},
    components: { schemas: { ...sharedSchemas }, responses: sharedResponses, securitySchemes },
  };
  for (const fragment of fragments) {
    if (!document.tags.some((t) => t.name === fragment.tag.name)) document.tags.push(fragment.tag);
    for (const [path, item] of Object.entries(fragment.paths)) {
      const existing = (document.paths[path] ??= {});
      for (const [method, operation] of Object.entries(item)) {
        if (existing[method as keyof typeof existing]) throw new Error(`OpenAPI: ${method} ${path} is defined twice`);
        Object.assign(existing, { [method]: operation });
      }
    }
    for (const [name, schema] of Object.entries(fragment.schemas ?? {})) {
      if (document.components.schemas[name]) throw new Error(`OpenAPI: schema ${name} is defined twice`);
      document.components.schemas[name] = schema;
    }
  }
  return document;
}
