# Weft image: weft-agent, weft-controller and the `weft` status CLI, plus the
# static CNI shim that the agent installs on each node.
# Node 24 (the current LTS), the same major the project builds and tests with.
ARG NODE_IMAGE=node:24.21.0-bookworm-slim

FROM ${NODE_IMAGE} AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends gcc libc6-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: the `node` devDependency would fetch a second Node binary; the
# base image's Node is the same major.
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json ./
COPY scripts/build.sh scripts/host-tools.ts scripts/
COPY common common
COPY agent agent
COPY controller controller
COPY e2e e2e
COPY bench bench
RUN bash scripts/build.sh \
 && npm prune --omit=dev --ignore-scripts \
 && rm -rf dist/e2e dist/bench \
 && find dist -name '*.test.js*' -delete

FROM ${NODE_IMAGE}
# iproute2, nftables and procps (sysctl) program the datapath, util-linux has
# nsenter; the distribution's CNI plugins provide portmap (chained after weft for
# hostPort) when the node lacks it.
RUN apt-get update \
 && apt-get install -y --no-install-recommends iproute2 nftables procps containernetworking-plugins util-linux \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/* \
 && rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack \
           /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack /opt/yarn-* \
           /usr/local/bin/yarn /usr/local/bin/yarnpkg /root/.npm
WORKDIR /app
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules node_modules
COPY --from=build /src/dist dist
COPY --from=build /src/build/weft-cni-shim /app/cni/weft
COPY scripts/image-entrypoints.sh /tmp/
RUN sh /tmp/image-entrypoints.sh /app /usr/local/bin && rm /tmp/image-entrypoints.sh
ENV WEFT_CNI_SHIM=/app/cni/weft NODE_ENV=production
# The agent runs as root (its DaemonSet says so and why); everything else does not.
USER 65532:65532
ENTRYPOINT []
CMD ["weft-agent"]
