import express from 'express';
import type { Client } from '@temporalio/client';
import type { Storage } from '@google-cloud/storage';
import type { AppConfig } from '../temporal.config';
import { healthRoutes } from './routes/health';
import { diagnosticsRoutes } from './routes/diagnostics';
import { notFound, problemHandler } from './problem';

export interface ApiDependencies {
  config: AppConfig;
  client: Client;
  storage: Storage;
}

/** The Express application, without listening: main.ts serves it, tests call it over a real socket. */
export function createApp(deps: ApiDependencies): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(express.json({ limit: '100kb' }));
  const bucket = deps.config.storage.defaultBucket;
  app.use(
    healthRoutes({ client: deps.client, storage: deps.storage, bucket, namespace: deps.config.temporal.namespace }),
  );
  app.use(diagnosticsRoutes({ client: deps.client, taskQueue: deps.config.temporal.taskQueue, bucket }));
  app.use((req) => {
    throw notFound(`${req.method} ${req.path}`);
  });
  app.use(problemHandler);
  return app;
}
