# circle-auth-gateway: a production image. Build: docker build -t circle-auth-gateway .
# Not built in this project's CI (no Docker engine there): test/deploy/files.test.ts checks what can
# be checked without one (COPY sources, the CMD file the build emits, env names, the health path).

# Node 24 LTS, pinned; the suite runs on it as well as on Node 20.
FROM node:24.22.3-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM node:24.22.3-bookworm-slim
# NODE_OPTIONS: V8's young generation capped at 8 MiB semi-spaces. Node 24 grows them to 64 MiB under
# load: the gateway's RSS was 286 MiB there, 183 with the cap, for 0-4 % CPU (bench/README.md).
ENV NODE_ENV=production \
    NODE_OPTIONS=--max-semi-space-size=8 \
    HOST=0.0.0.0 \
    PORT=4000 \
    SHUTDOWN_DELAY_MS=5000 \
    SHUTDOWN_DRAIN_MS=4000
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts && npm cache clean --force
COPY --from=build /app/dist ./dist
# The image's own unprivileged user; nothing under /app is writable by it.
USER node
EXPOSE 4000
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 4000) + '/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# SIGTERM: /ready answers 503 at once while the gateway keeps serving for SHUTDOWN_DELAY_MS (5 s),
# so balancers stop routing here first; then in-flight requests get SHUTDOWN_DRAIN_MS (4 s) to
# finish: 9 s in all, inside docker stop's default 10 s grace period. Raise them and the grace
# period together (docker stop -t, stop_grace_period, terminationGracePeriodSeconds), keeping the
# delay plus the drain the shorter.
STOPSIGNAL SIGTERM
# node itself is PID 1's only process: no npm or shell in between to swallow the signal.
CMD ["node", "dist/main.js"]
