# Weft image: weft-agent, weft-controller and the `weft` status CLI, plus the
# static CNI shim that the agent installs on each node.
# Node 24 (the current LTS), the same major the project builds and tests with.
ARG NODE_IMAGE=node:24.21.0-bookworm-slim
# Go for the Go stage (CNI plugins, wireguard-go); its version is the one
# containernetworking/plugins v1.10.0's go.mod requires.
ARG GO_IMAGE=golang:1.26.8-bookworm

# The Go stage: static binaries from the Go module proxy.
# portmap (chained after weft for hostPort) and loopback, current releases: they speak CNI
# 1.1.0, so the conflist can offer it and runtimes send STATUS and GC.
FROM ${GO_IMAGE} AS go-binaries
ARG GOPROXY=https://proxy.golang.org,direct
ARG CNI_PLUGINS_VERSION=v1.10.0
RUN CGO_ENABLED=0 GOTOOLCHAIN=local GOBIN=/out GOPROXY=${GOPROXY} GOFLAGS=-mod=mod \
    go install -trimpath -ldflags "-s -w" \
      github.com/containernetworking/plugins/plugins/meta/portmap@${CNI_PLUGINS_VERSION} \
      github.com/containernetworking/plugins/plugins/main/loopback@${CNI_PLUGINS_VERSION}
# wireguard-go, the userspace WireGuard the agent runs where the kernel has no WireGuard module.
# Its pin is e2e/wireguard/go.mod (the namespace tests build the same one): built in that module,
# checked against its go.sum; a layer of its own, so a new pin leaves the CNI plugins cached.
WORKDIR /wireguard
COPY e2e/wireguard/go.mod e2e/wireguard/go.sum e2e/wireguard/tools.go ./
RUN CGO_ENABLED=0 GOTOOLCHAIN=local GOPROXY=${GOPROXY} \
    go build -trimpath -ldflags "-s -w" -o /out/wireguard-go golang.zx2c4.com/wireguard

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
# iproute2, nftables and procps (sysctl) program the datapath, util-linux has nsenter
# and unshare, mount mount (the WireGuard probe), wireguard-tools `wg` (configures weft.wg,
# kernel or userspace). portmap and loopback come from the Go stage, at the path where
# Debian would put them (the agent installs portmap on a node that lacks it), wireguard-go
# too, at the agent's default WEFT_WIREGUARD_GO.
RUN apt-get update \
 && apt-get install -y --no-install-recommends iproute2 nftables procps util-linux mount wireguard-tools \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/* /var/cache/apt/*.bin \
 && rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack \
           /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack /opt/yarn-* \
           /usr/local/bin/yarn /usr/local/bin/yarnpkg /root/.npm
WORKDIR /app
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules node_modules
COPY --from=build /src/dist dist
COPY --from=build /src/build/weft-cni-shim /app/cni/weft
COPY --from=go-binaries /out/portmap /out/loopback /usr/lib/cni/
COPY --from=go-binaries /out/wireguard-go /usr/local/bin/wireguard-go
COPY scripts/image-entrypoints.sh /tmp/
RUN sh /tmp/image-entrypoints.sh /app /usr/local/bin && rm /tmp/image-entrypoints.sh
ENV WEFT_CNI_SHIM=/app/cni/weft NODE_ENV=production
# The agent runs as root (its DaemonSet says so and why); everything else does not.
USER 65532:65532
ENTRYPOINT []
CMD ["weft-agent"]
