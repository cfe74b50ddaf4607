# Turnpike on Node 24 (an LTS line; the newest whose ABI, 137, uWebSockets.js
# 20.57 ships a binary for) on Debian 13 "trixie" slim (glibc 2.41: the
# official uWS binary loads as is, no glibc patch).
# test/e2e-process/docker-files.test.ts checks this file and docker-compose.yaml.

# --- build: dev dependencies, TypeScript, then only production dependencies kept
FROM node:24-trixie-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json ./
COPY bin ./bin
COPY scripts ./scripts
# tsconfig compiles all four trees (src tests import test/ fixtures).
COPY src ./src
COPY test ./test
COPY native-bench ./native-bench
COPY loadtest ./loadtest
# `npm ci` runs the `prepare` script: tsc, then scripts/copy-assets.mjs puts
# the files the code reads at run time (rate-limit .lua) under dist/src/.
RUN npm ci --no-audit --no-fund && npm prune --omit=dev --ignore-scripts --no-audit --no-fund
# The runtime user cannot write node_modules: write the recv-yield patched uWS
# copy now, into node_modules/.cache/turnpike-uws (README, "uWebSockets.js
# binary patches"); on a build the patch does not recognise this loads the
# official binary and writes nothing.
RUN node --input-type=module -e "const m = await import('/app/dist/src/platform/uws-loader.js'); m.loadUws(); console.log(JSON.stringify(m.uwsLoadInfo()))"

# --- runtime: production node_modules, compiled code, the CLI and the configs
FROM node:24-trixie-slim AS runtime
ENV NODE_ENV=production TURNPIKE_CONFIG=/app/config/gateway.yaml
WORKDIR /app
# Files stay root-owned: the `node` user only reads them.
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
COPY package.json ./
COPY bin ./bin
COPY config ./config
EXPOSE 8080 9901
# The admin listener binds 127.0.0.1 by default; in a container it must be
# reachable from outside. Operators MUST then set TURNPIKE_ADMIN_TOKEN (or
# admin.token) so that admin endpoints and /ui need a bearer token, and
# publish the admin port to a private address only. /readyz stays open
# without the token (the HEALTHCHECK below needs none).
ENV TURNPIKE_ADMIN_HOST=0.0.0.0
USER node
# Slim images have no curl: node's fetch asks the admin listener's /readyz
# (200 once every worker is ready and none is draining).
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.TURNPIKE_ADMIN_PORT || 9901) + '/readyz', { signal: AbortSignal.timeout(2500) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# The primary drains on SIGTERM (server.gracePeriod, 30 s by default): give
# `docker stop` a longer timeout (`--time 35`, compose `stop_grace_period`).
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "bin/turnpike.js"]
# The bundled demo by default; with your own config:
# `docker run -v $PWD/gw.yaml:/app/config/gateway.yaml:ro turnpike start`.
CMD ["start", "--demo"]
