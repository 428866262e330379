#!/usr/bin/env bash
# Makes a fresh machine (Debian 12) ready to run the bot and its tests, idempotently:
#   1. Debian packages the project needs (apt-get, when missing);
#   2. npm packages from package-lock.json, including Node 24 itself (when the lock changed).
# The kernel trees (6.12's source, rustc 1.96 and bindgen fetched into the cache dir; 6.1's tarball
# unpacked there) and a local Redis are set up by the program itself (npm run provision, or a worker at
# start: jobs/kernel/, jobs/queue/local-redis.ts), so that operators get the same behaviour.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'bootstrap: %s\n' "$*" >&2; }

packages=(
  redis-server      # job queue, dedup records, rate limits
  linux-source-6.1  # the 6.1 kernel tree: docs to index, a tree to build against
  xz-utils          # to unpack it
  # building Rust kernel modules: 6.1 wants these Debian toolchain versions (kernel.toolchains debian-system)
  rustc rust-src bindgen clang lld llvm libclang-dev
  # what 6.12's rustc-web 1.96 and cargo-web link; they themselves are only downloaded and unpacked into
  # the cache dir: installing rustc-web would remove the rustc above, and linux-source-6.12 would put a
  # second tarball into /usr/src
  libllvm22 libgit2-1.5
  make gcc flex bison bc libelf-dev libssl-dev cpio
  qemu-system-x86 busybox-static  # booting a built module
  bubblewrap                      # the sandbox for untrusted code
  python3-venv                    # the tests' Synapse homeserver, installed from PyPI into a venv
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [ "$(id -u)" -eq 0 ]; then sudo=(); elif command -v sudo >/dev/null; then sudo=(sudo); else
    say "missing Debian packages: ${missing[*]} (run as root, or install them yourself)"; exit 1
  fi
  say "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm install only when package-lock.json differs from what was last installed.
stamp=node_modules/.rfl-lock-hash
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -x node_modules/.bin/node ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  say "installing npm packages"
  # npm install, not npm ci: npm 11 drops other platforms' optional packages (biome, tsc) from the
  # lock file and then refuses npm ci; install still keeps to the locked versions.
  npm install --no-audit --no-fund --loglevel=error
  echo "$want" >"$stamp"
fi
