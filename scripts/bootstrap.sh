#!/usr/bin/env bash
# Brings a fresh Debian 12 machine to the point where `npm start` and `npm test` work:
#   1. Debian packages for the real servers and the dataplane (apt-get, only when missing);
#   2. npm packages (`npm ci`, only when node_modules is missing or older than the lock);
#   3. the TypeScript build (turbo; cached inside a git work tree).
# Idempotent and quiet when there is nothing to do. Installing packages needs root.
set -euo pipefail
cd "$(dirname "$0")/.."

# binary → Debian package (keep in sync with packages/testkit/src/binaries.ts)
declare -A PKG=([etcd]=etcd-server [etcdctl]=etcd-client [nats-server]=nats-server [nft]=nftables [ip]=iproute2 [openssl]=openssl [chromium]=chromium [promtool]=prometheus)
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

missing=()
for bin in "${!PKG[@]}"; do
  command -v "$bin" >/dev/null 2>&1 || missing+=("${PKG[$bin]}")
done

if ((${#missing[@]})); then
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  if [[ $(id -u) -ne 0 ]]; then
    echo "bootstrap: missing Debian packages: ${missing[*]}" >&2
    echo "bootstrap: run as root, or: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  echo "bootstrap: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # The etcd-server and prometheus packages enable systemd units (:2379, :9090); natfleet
  # never uses them (tests and the local stack start their own etcd on free ports; promtool
  # only checks rule files), so keep them from starting.
  printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  rm -f /usr/sbin/policy-rc.d
  trap - EXIT
fi

if [[ ! -d node_modules || ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "bootstrap: npm ci"
  npm ci --no-audit --no-fund
fi

npx turbo run build --output-logs=errors-only

# `npx natctl …` anywhere in the checkout runs this checkout's natctl: npm links a
# workspace's bin only when its target existed at install time (dist/ is built after
# npm ci), so link it once the build made it.
if [[ ! -e node_modules/.bin/natctl ]]; then
  chmod +x packages/natctl/dist/main.js
  npm rebuild @natfleet/natctl --ignore-scripts >/dev/null
fi
