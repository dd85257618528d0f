# The emulator as a container: compiled JavaScript (the npm package, as `npm pack` builds it), non-root, telemetry
# and deployments in the /data volume. Build: docker build -t ai-gateway-emulator .
# Run:   docker run -p 8080:8080 -v age-data:/data ai-gateway-emulator
#        (extra start flags after the image name replace CMD, e.g. ... ai-gateway-emulator start --preset token-metrics-emitting --host 0.0.0.0 --data /data)

FROM node:20-bookworm-slim AS build
# better-sqlite3 compiles from source when no prebuilt binary can be fetched: python3, make, g++.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY package.json package-lock.json ./
# No install scripts here (the root prepare would build the UI before its sources are copied); nothing runs better-sqlite3 in this stage.
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY . .
# npm pack runs prepack: the UI build, tsc → dist/, then the package as a consumer would get it.
RUN npm pack --pack-destination /tmp && mkdir /app && cd /app && echo '{"name":"app","private":true}' > package.json \
  && npm install --no-audit --no-fund --omit=dev /tmp/ai-gateway-emulator-*.tgz

FROM node:20-bookworm-slim
ENV NODE_ENV=production
COPY --from=build /app /app
RUN mkdir -p /data && chown node:node /data
USER node
WORKDIR /data
VOLUME /data
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8080/_emulator/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "/app/node_modules/ai-gateway-emulator/dist/bin/ai-gateway-emulator.js"]
CMD ["start", "--host", "0.0.0.0", "--port", "8080", "--data", "/data"]
