# syntax=docker/dockerfile:1
# The voxgate gateway, compiled (`npm run build` → dist/), run by plain Node as a non-root user.
#   docker build -f deploy/docker/gateway.Dockerfile -t voxgate/gateway .      (context: the repo root)
#   docker run -p 8080:8080 -v $PWD/deploy/compose/gateway.yaml:/etc/voxgate/gateway.yaml:ro voxgate/gateway
# Config: mount it at /etc/voxgate/gateway.yaml (keys as sha256 digests, never plain keys).

ARG NODE_VERSION=20.18

FROM node:${NODE_VERSION}-bookworm AS build
WORKDIR /src
COPY package.json package-lock.json .npmrc ./
# better-sqlite3 compiles here (the canary store); onnxruntime-node's CPU binaries ship in npm.
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY tools ./tools
COPY cli ./cli
COPY protocol ./protocol
COPY gateway ./gateway
COPY node-runtime ./node-runtime
COPY cluster ./cluster
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM node:${NODE_VERSION}-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
# The canary store (SQLite) and scratch files: the only places the gateway writes.
RUN mkdir -p /var/lib/voxgate /etc/voxgate && chown node:node /var/lib/voxgate
USER node
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=2s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8080/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# --no-incremental-marking-task: see gateway/src/lifecycle/gc-tuning.ts (GATEWAY_NODE_FLAGS).
ENTRYPOINT ["node", "--no-incremental-marking-task", "dist/gateway/src/main.js"]
CMD ["--config", "/etc/voxgate/gateway.yaml", "--host", "0.0.0.0", "--port", "8080"]
