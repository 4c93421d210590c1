# The API process (stateless; run two or more behind a load balancer). Build from the repository root:
#   docker build -f deploy/api.Dockerfile -t entra-backup-api .
# Not built on the development machine (no registry to pull the base image from): see docs/deployment.md.
FROM node:24-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
# Dependencies' install scripts never run (nothing we use needs them), as in scripts/setup.sh.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund
COPY . .
ENV NODE_ENV=production API_HOST=0.0.0.0 API_PORT=3000
USER node
EXPOSE 3000
CMD ["node_modules/.bin/tsx", "api/main.ts"]
