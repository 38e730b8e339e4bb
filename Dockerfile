# connect-stream-bridge container image.
#
#   docker build -t connect-stream-bridge .
#
# Stages: deps (all dependencies) -> build (nest build -> dist/)
#         prod-deps (runtime dependencies only) -> runtime (the image that ships).
# Every stage uses the same Node major. Pin a digest here (node:22-bookworm-slim@sha256:...)
# once the build environment can resolve one.

FROM node:22-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json nest-cli.json tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM node:22-bookworm-slim AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
# The only install script among runtime dependencies (msgpackr-extract) falls back to
# prebuilt binaries that ship as optional packages, so scripts can be skipped.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
    && npm cache clean --force

FROM node:22-bookworm-slim AS runtime
# tini runs as PID 1: forwards SIGTERM/SIGINT to node and reaps zombie processes.
RUN apt-get update \
    && apt-get install -y --no-install-recommends tini \
    && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production
WORKDIR /app
# Files stay owned by root and world-readable, so the app cannot modify itself and the
# container can run with a read-only root filesystem.
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
# uid:gid of the "node" user in the official image; numeric so that Kubernetes
# runAsNonRoot can verify it.
USER 1000:1000
EXPOSE 3000
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "dist/main.js"]
