# The operator's image: compile with the full toolchain, then run on a slim Node with only dist/, the production
# node_modules, package.json (which makes dist/*.js ES modules) and crds/ (the self-service API reads the CRD
# schemas from there at start). No Docker engine runs where this repository is tested, so this file has never
# been built here; manifests/ and helm/ are tested with a placeholder image instead.
#
#   docker build -t ghcr.io/example/tenant-operator:0.1.0 .

# Node 20 is the version the tests run on; package.json's engines also allow 22 and later.
ARG NODE_VERSION=20

FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM node:${NODE_VERSION}-bookworm-slim AS production-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM node:${NODE_VERSION}-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json ./
COPY crds ./crds
COPY --from=production-deps /app/node_modules ./node_modules
COPY --from=build /src/dist ./dist
# The image's own "node" user, by number, so that the kubelet can check runAsNonRoot without looking it up.
USER 1000:1000
EXPOSE 8080 8443
ENTRYPOINT ["node", "dist/main.js"]
