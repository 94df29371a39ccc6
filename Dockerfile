# syntax=docker/dockerfile:1
#
# One image for every ficus process; the command picks which (docs/adr/0013-one-image-for-every-process.md):
#
#   node dist/apps/monolith/src/main.js                       the whole shop (the default)
#   node dist/apps/gateway/src/main.js                        the HTTP edge of a split topology
#   node dist/apps/service/src/main.js --target inventory     one deploy target of a topology
#
# FICUS_TOPOLOGY (or --topology) names the topology file; the shipped ones are in
# dist/infra/topology/. docker-compose.yml runs the split topology from this image.

ARG NODE_IMAGE=node:24-bookworm-slim

# Node 24, the maintained LTS (Node 20 reached its end of life in April 2026; docs/adr/0049).
# npm pinned to the development machines' 11: it honours package.json's `allowScripts`, so that
# only the approved install scripts run (npm 10 runs every one).
FROM ${NODE_IMAGE} AS npm
ARG NPM_VERSION=11.19.1
RUN npm install --global --no-audit --no-fund npm@${NPM_VERSION} && npm cache clean --force
WORKDIR /app

# TypeScript to JavaScript: tsc (type-checked), tsc-alias for the path aliases, topology YAMLs copied.
FROM npm AS build
COPY package.json package-lock.json ./
# Fixes to dependencies, applied by patch-package at postinstall (patches/README.md).
COPY patches ./patches
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY apps ./apps
COPY modules ./modules
COPY contracts ./contracts
COPY infra ./infra
RUN npm run build

# Only what runs in production: no compiler, no test tools.
FROM npm AS production-dependencies
COPY package.json package-lock.json ./
COPY patches ./patches
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
# Used only when DATABASE_URL is unset and the process starts the embedded PostgreSQL itself.
ENV FICUS_DATA_DIR=/var/lib/ficus
WORKDIR /app
RUN mkdir -p /var/lib/ficus && chown node:node /var/lib/ficus
# Owned by root and read-only to the process: the code never writes next to itself.
COPY package.json ./
COPY --from=production-dependencies /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The monolith's operations port (monolith.yaml) listens on loopback outside a container; in one,
# on every interface, so that the platform's probes reach it. It is still never to be published.
ENV FICUS_OPERATIONS_HOST=0.0.0.0
# `node` (uid 1000) comes with the official image.
USER node
# 3000: the public API; 4000: operations (/health, /ready, /metrics), not to be published
EXPOSE 3000 4000
CMD ["node", "dist/apps/monolith/src/main.js"]
