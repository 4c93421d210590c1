# The worker process (as many replicas as the tenants need: docs/deployment.md, "Sizing"). Build from the root:
#   docker build -f deploy/worker.Dockerfile -t entra-backup-worker .
# Not built on the development machine (no registry to pull the base image from): see docs/deployment.md.
FROM node:24-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund
COPY . .
# Bundle the workflow code once, in the image, so a starting worker does not (WORKFLOW_BUNDLE_PATH).
RUN node_modules/.bin/tsx scripts/build-workflows.ts /app/workflow-bundle.js
# Prometheus scrapes /metrics from outside the container: the default host is loopback only.
ENV NODE_ENV=production WORKFLOW_BUNDLE_PATH=/app/workflow-bundle.js WORKER_METRICS_HOST=0.0.0.0 WORKER_METRICS_PORT=9464
EXPOSE 9464
USER node
# SIGTERM lets running activities finish within WORKER_SHUTDOWN_GRACE; give the orchestrator a longer grace period.
STOPSIGNAL SIGTERM
CMD ["node_modules/.bin/tsx", "worker/main.ts"]
