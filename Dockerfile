# syntax=docker/dockerfile:1
# The Token Revocation API: one image for both roles (ROLE=api or ROLE=worker).
# Base image pinned to a patch release (the Node.js CI tests on); bump it deliberately, with the lock file.
FROM node:24.22.3-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src src
COPY providers providers
COPY simulator simulator
COPY bench bench
COPY schemas schemas
RUN npm run build && rm -rf dist/bench && npm prune --omit=dev

FROM node:24.22.3-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist dist
COPY --from=build /app/schemas schemas
# trapi on PATH (docker compose exec worker trapi status): always our own CLI, never a download from the registry.
RUN chmod +x dist/src/cli.js && ln -s /app/dist/src/cli.js /usr/local/bin/trapi
USER node
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/-/liveness').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# The V8 heap flags of `npm start` (README, "Memory"): small semi-spaces and a capped old generation, so that garbage is
# collected early instead of growing the RSS (test/unit/start-command.test.ts holds every start command to npm start's).
CMD ["node", "--max-semi-space-size=2", "--max-old-space-size=768", "dist/src/main.js"]
