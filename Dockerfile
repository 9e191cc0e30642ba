# syntax=docker/dockerfile:1
# tinyscribe on a 256 MB machine. Three stages on one base image: native addons installed in
# `deps` are loaded in `runtime`, so both must have the same glibc. node:22-slim is Debian (glibc);
# @discordjs/opus and @snazzah/davey ship builds for it, not for Alpine's musl.
ARG NODE_IMAGE=node:22-slim

# ---- build: compile TypeScript to dist/. --ignore-scripts because tsc needs no native addon, and
# the `node` devDependency's preinstall would download a second Node 22 that this image already has.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
RUN npm run build

# ---- deps: production dependencies only. Install scripts run here (package.json `allowScripts`
# lists @discordjs/opus, which fetches a prebuilt binary or compiles one); npm 10 ignores that field
# and npm 11 only reports on it. The compiler is for that fallback and stays in this stage.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

# ---- runtime: compiled dist/src, production node_modules, non-root, node itself as the process.
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production MALLOC_ARENA_MAX=2
ENV DATA_DIR=/data SPOOL_DIR=/data/spool HEALTH_PORT=8080
# curl only for `fly ssh console -C "curl -s localhost:8080/metrics"`: disk, no memory unless run.
RUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# package.json is needed at run time for "type": "module". Code stays root-owned: the bot cannot rewrite itself.
COPY package.json ./
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
# /data is the Fly volume's mount point (spool, settings). Fly mounts it owned by the image's user;
# the directory made here serves `docker run` without a volume. The bot creates SPOOL_DIR itself.
RUN mkdir -p /data/spool && chown -R node:node /data
USER node
EXPOSE 8080
# The node flags live only on the next line; the replay test parses it and the memory benchmark tunes it.
CMD ["node", "--max-old-space-size=96", "--max-semi-space-size=1", "--enable-source-maps", "dist/src/main.js"]
