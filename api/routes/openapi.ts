import { Router } from 'express';
import type { OpenApiDocument } from '../openapi/types';

export function openApiRoutes(deps: { document: OpenApiDocument }): Router {
  const router = Router();
  const body = JSON.stringify(deps.document);
  router.get('/openapi.json', (_req, res) => {
    res.type('application/json').send(body);
  });
  return router;
}
