# ak-outpost image: a drop-in for authentik's ldap and radius outpost images (same environment, ports, health
# path and healthcheck subcommand), so authentik can deploy it as a managed outpost's container image.
# Node 26 is the Active LTS; the tag is pinned (Node major and Debian release) so a rebuild never moves either.
# test/deploy/dockerfile.test.ts performs this recipe's steps in scratch directories and runs the result.

FROM node:26-trixie-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json ./
RUN npm ci --no-audit --no-fund
COPY src ./src
# Compile, then drop the dev dependencies so the runtime stage copies production ones only.
RUN npx tsc -p tsconfig.json && npm prune --omit=dev --no-audit --no-fund

FROM node:26-trixie-slim
ARG GIT_BUILD_HASH=""
WORKDIR /app
# TMPDIR holds the metrics socket the healthcheck uses; /dev/shm is a tmpfs, writable with a read-only root.
ENV NODE_ENV=production TMPDIR=/dev/shm/ GIT_BUILD_HASH=${GIT_BUILD_HASH}
COPY package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
# The embedded demo (no AUTHENTIK_HOST) reads examples/ and writes its CA and certificates to certs/.
COPY examples/demo-directory.yaml ./examples/
COPY --chown=node:node certs/README.md ./certs/
# The node image's unprivileged user (uid 1000, as authentik's images run).
USER node
EXPOSE 3389 6636 1812/udp 1813/udp 9300
HEALTHCHECK --interval=5s --retries=20 --start-period=3s CMD ["node", "dist/src/main.js", "healthcheck"]
# Exec form: node is PID 1 and receives SIGTERM itself (src/main.ts stops gracefully on it); --expose-gc as
# `npm start` passes it.
ENTRYPOINT ["node", "--expose-gc", "dist/src/main.js"]
