# syntax=docker/dockerfile:1
# A voxgate node runtime (CPU: flite, and ChatTTS on onnxruntime's CPU provider), compiled
# (`npm run build` → dist/), run by plain Node as a non-root user. For GPUs: node-runtime-cuda.Dockerfile.
#   docker build -f deploy/docker/node-runtime.Dockerfile -t voxgate/node-runtime .   (context: the repo root)
#   docker run -p 7001:7001 -e VOXGATE_ADMIN_TOKEN=$(openssl rand -hex 16) voxgate/node-runtime --node-id n1
# The image ships the flite packs in /app/models; mount real packs over it or point --models-dir elsewhere.

ARG NODE_VERSION=20.18

FROM node:${NODE_VERSION}-bookworm AS build
WORKDIR /src
COPY package.json package-lock.json .npmrc ./
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
COPY models/flite ./models/flite
COPY models/flite-fast ./models/flite-fast
RUN mkdir -p /etc/voxgate
USER node
EXPOSE 7001
HEALTHCHECK --interval=10s --timeout=2s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:7001/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# SIGTERM drains (readiness off, in-flight work finishes within drain_timeout_ms) and exits 0.
ENTRYPOINT ["node", "dist/node-runtime/src/main.js"]
CMD ["--host", "0.0.0.0", "--port", "7001", "--models-dir", "/app/models"]
