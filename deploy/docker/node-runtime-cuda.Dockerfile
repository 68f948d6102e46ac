# syntax=docker/dockerfile:1
# A voxgate node runtime for one NVIDIA GPU: onnxruntime-node with its CUDA 12 execution
# provider (cuDNN 9), ChatTTS on the GPU and flite on the CPU. Non-root, compiled dist/.
#   docker build -f deploy/docker/node-runtime-cuda.Dockerfile -t voxgate/node-runtime:cuda .
#   docker run --gpus 1 -p 7001:7001 -v /srv/voxgate/models:/srv/voxgate/models:ro voxgate/node-runtime:cuda
# The host needs the NVIDIA driver and the container toolkit; Kubernetes: the GPU overlay.

ARG NODE_VERSION=20.18
ARG CUDA_IMAGE=nvidia/cuda:12.6.3-cudnn-runtime-ubuntu24.04

FROM node:${NODE_VERSION}-bookworm AS build
WORKDIR /src
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund
# The CUDA provider's libraries are not in the npm tarball: onnxruntime-node's installer fetches
# them (the repo's .npmrc skips that step for CPU machines and CI).
RUN cd node_modules/onnxruntime-node && ONNXRUNTIME_NODE_INSTALL=cuda12 node script/install.js
COPY tsconfig.json tsconfig.build.json ./
COPY tools ./tools
COPY cli ./cli
COPY protocol ./protocol
COPY gateway ./gateway
COPY node-runtime ./node-runtime
COPY cluster ./cluster
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM node:${NODE_VERSION}-bookworm-slim AS node

# Ubuntu 24.04 (glibc 2.39) runs what was compiled on Debian bookworm (glibc 2.36).
FROM ${CUDA_IMAGE}
ENV NODE_ENV=production
COPY --from=node /usr/local/bin/node /usr/local/bin/node
RUN groupadd --gid 10001 voxgate && useradd --uid 10001 --gid voxgate --no-create-home --shell /usr/sbin/nologin voxgate \
  && mkdir -p /etc/voxgate /srv/voxgate/models
WORKDIR /app
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY models/flite ./models/flite
COPY models/flite-fast ./models/flite-fast
USER 10001:10001
EXPOSE 7001
HEALTHCHECK --interval=10s --timeout=2s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:7001/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "dist/node-runtime/src/main.js"]
CMD ["--host", "0.0.0.0", "--port", "7001", "--models-dir", "/srv/voxgate/models", "--providers", "cuda,cpu"]
