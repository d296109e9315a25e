# Weft: one flow per container. Two ways to use this image:
#   mount a flow:  podman run -v ./flows/hello.yaml:/flow/flow.yaml:ro -p 8080:8080 -p 8081:8081 weft
#   bake one:      podman build --build-arg FLOW=flows/retail/store.yaml -t store .
#                  (the flow's folder is copied with it, so the schema/IDL files it names come along)
# Weft runs as its one-file build (dist/weft.cjs, `npm run build`): about half the CPU to start of
# its TypeScript sources, which stay in the image as the fallback. Node refuses type stripping
# under node_modules: the app lives in /app, its production dependencies in /app/node_modules.
ARG BASE_IMAGE=docker.io/library/node:24-slim

FROM ${BASE_IMAGE} AS deps
# Only for reaching the npm registry through a private CA at build time; never in the final image.
ARG NODE_EXTRA_CA_CERTS
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: no production dependency needs an install script to work.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && npm cache clean --force

FROM ${BASE_IMAGE} AS build
ARG NODE_EXTRA_CA_CERTS
WORKDIR /app
COPY package.json package-lock.json ./
# All dependencies: esbuild (a devDependency, its binary shipped in a registry package) bundles.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY bin ./bin
COPY runtime ./runtime
COPY connectors ./connectors
# `npm run build` without npm: node_modules/.bin/node (the node devDependency) is not installed here.
RUN node bin/build.ts

FROM ${BASE_IMAGE} AS flow
ARG FLOW=
WORKDIR /src
COPY . ./context
# With FLOW set, bake that flow with every file of its folder as /flow/flow.yaml; else /flow stays empty.
RUN mkdir -p /flow \
 && if [ -n "${FLOW}" ]; then \
      test -f "context/${FLOW}" || { echo "FLOW=${FLOW}: no such file in the build context" >&2; exit 1; }; \
      cp -R "$(dirname "context/${FLOW}")/." /flow/ && cp "context/${FLOW}" /flow/flow.yaml; \
    fi

FROM ${BASE_IMAGE}
LABEL org.opencontainers.image.title="weft" \
      org.opencontainers.image.description="Weft micro-integration runtime: one YAML flow per container" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV NODE_ENV=production \
    PORT=8080 \
    ADMIN_PORT=8081 \
    HOST=0.0.0.0 \
    LOG_LEVEL=info \
    WEFT_BUNDLE=1
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY bin ./bin
COPY runtime ./runtime
COPY connectors ./connectors
# WEFT_BUNDLE=1: the sources cannot change after the build, so bin/weft.js skips its freshness check.
COPY --from=build /app/dist ./dist
# The bundle's V8 code cache (bin/entry.ts), made now because the read-only root leaves nowhere
# to write one at run time (Node's compile cache is off there too). `weft validate` of a small
# flow covers loading, parsing, validating and compiling; the request path compiles on first use.
ENV WEFT_CODE_CACHE=/app/code-cache
RUN mkdir -p /app/code-cache \
 && printf 'weft: 1\nname: warm\ntrigger:\n  http: { method: GET, path: /items/:id }\nendpoints:\n  backend:\n    http: { url: "http://127.0.0.1:1" }\nsteps:\n  - call: backend\n    path: /items\n' > /tmp/warm.yaml \
 && node bin/weft.js validate /tmp/warm.yaml \
 && rm /tmp/warm.yaml
COPY --from=flow /flow /flow
# Nothing is written at run time: the image runs with a read-only root filesystem.
USER node
EXPOSE 8080 8081
HEALTHCHECK --interval=10s --timeout=2s --start-period=5s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.ADMIN_PORT || 8081) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# node is PID 1 and handles SIGTERM itself: stop accepting, drain, exit 0.
ENTRYPOINT ["node", "/app/bin/weft.js"]
CMD ["run", "/flow/flow.yaml"]
