# Turnpike on a current Node LTS, Debian 13 (glibc 2.41: the official uWS binary loads as is).
FROM node:24-trixie-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json ./
COPY bin ./bin
COPY scripts ./scripts
COPY src ./src
COPY test ./test
COPY native-bench ./native-bench
COPY loadtest ./loadtest
RUN npm ci --no-audit --no-fund && npm prune --omit=dev --ignore-scripts
# The runtime user cannot write node_modules: write the recv-yield patched uWS
# copy now (README, "uWebSockets.js binary patches"); on a build the patch does
# not recognise this loads the official binary and writes nothing.
RUN node --input-type=module -e "const m = await import('/app/dist/src/platform/uws-loader.js'); m.loadUws(); console.log(JSON.stringify(m.uwsLoadInfo()))"

FROM node:24-trixie-slim
ENV NODE_ENV=production TURNPIKE_CONFIG=/app/config/gateway.yaml
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
COPY config ./config
EXPOSE 8080 9901
USER node
# Admin binds 127.0.0.1 by default; inside a container expose it explicitly.
ENV TURNPIKE_ADMIN_HOST=0.0.0.0
ENTRYPOINT ["node", "bin/turnpike.js"]
# The bundled demo by default; with your own config: `docker run -v $PWD/gw.yaml:/app/config/gateway.yaml turnpike start`.
CMD ["start", "--demo"]
