# Minimal image; packaging is refined later (healthcheck, non-root user are already in place).
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json ./
RUN npm ci
COPY src ./src
COPY scripts ./scripts
COPY examples ./examples
RUN npx tsc -p tsconfig.json && npm prune --omit=dev

FROM node:22-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production TMPDIR=/dev/shm/
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
COPY --from=build /app/examples ./examples
COPY package.json ./
USER 1000
EXPOSE 3389 6636 1812/udp 1813/udp 9300
HEALTHCHECK --interval=5s --retries=20 --start-period=3s CMD ["node", "dist/src/main.js", "healthcheck"]
ENTRYPOINT ["node", "dist/src/main.js"]
