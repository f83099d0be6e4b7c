# syntax=docker/dockerfile:1
# The exporter's image. By default it runs the worker; docker-compose.yml also runs the operator CLI
# (node lib/src/cli/main.js) and the demo's Zendesk emulator (node lib/src/emulator/main.js) from it.
# Node 26, the Active LTS (package.json `engines` allows 22 and later for a local checkout); a minor version is
# pinned, so a rebuild takes its patch releases and nothing else: raise it on each LTS minor.

FROM node:26.12-bookworm-slim AS build
# better-sqlite3 compiles from source when no prebuilt binary matches the platform.
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
# tsconfig: rootDir "." and outDir "lib", so src/worker.ts becomes lib/src/worker.js (only src/ is in the context).
RUN npm run build
# Prebundled workflows (with their payload converter): the worker loads this file (WORKFLOW_BUNDLE_PATH) instead of
# running webpack at each start.
RUN node -e "require('./lib/src/workflow-bundle').bundleWorkflows().then((code) => require('node:fs').writeFileSync('lib/workflow-bundle.js', code))"
RUN npm prune --omit=dev --no-audit --no-fund

FROM node:26.12-bookworm-slim
ENV NODE_ENV=production \
  WORKFLOW_BUNDLE_PATH=/app/lib/workflow-bundle.js
WORKDIR /app
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/lib ./lib
# The default sink is sqlite:.data/tickets.db (`docker run` without SINK_URL), for the node user alone (the sink creates
# its file with mode 0600); the code itself stays root-owned.
RUN install -d -m 0700 -o node -g node .data
USER node
# 8234: codec endpoint for the Web UI (CODEC_SERVER_PORT: npm run codec-server, compose's codec service, or a
# worker); 9464: Prometheus metrics and the health probes /healthz, /readyz (METRICS_PORT).
EXPOSE 8234 9464
CMD ["node", "lib/src/worker.js"]
