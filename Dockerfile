# syntax=docker/dockerfile:1
# The exporter's image: the zendesk-export command (package.json `bin`, lib/cli/main.js) is its entrypoint, and its
# default command is `worker`, so `docker run IMAGE` runs a worker and `docker run IMAGE status --all` (any command of
# the CLI) runs that command instead. docker-compose.yml runs the worker, the codec service (`codec-server`), the
# demo's Zendesk emulator (`emulator ...`) and the operator CLI (`status`, `start`, ...) from it.
# Node 26, the Active LTS (package.json `engines` still allows 22 and later for a local checkout); a minor version is
# pinned, so a rebuild takes its patch releases and nothing else: raise it on each LTS minor.

FROM node:26.12-bookworm-slim AS build
# better-sqlite3 compiles from source when no prebuilt binary matches the platform.
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# tsconfig.build.json: rootDir "src" and outDir "lib", so src/cli/main.ts becomes lib/cli/main.js. The build then
# bundles the compiled workflows (with their payload converter) into lib/workflow-bundle.js, which the worker loads
# by itself instead of running webpack at each start.
RUN npm run build
RUN npm prune --omit=dev --no-audit --no-fund

FROM node:26.12-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/lib ./lib
# The default sink is sqlite:.data/tickets.db (`docker run` without SINK_URL), for the node user alone (the sink creates
# its file with mode 0600); the code itself stays root-owned.
RUN install -d -m 0700 -o node -g node .data
USER node
# 8234: codec endpoint for the Web UI (CODEC_SERVER_PORT: the codec-server command, compose's codec service, or a
# worker); 9464: Prometheus metrics and the health probes /healthz, /readyz (METRICS_PORT).
EXPOSE 8234 9464
ENTRYPOINT ["node", "lib/cli/main.js"]
CMD ["worker"]
