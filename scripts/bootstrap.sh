#!/usr/bin/env bash
# Installs what Strata needs to build and test on a fresh Debian machine, and
# nothing that is already there: pkg-config, liblz4-dev, libzstd-dev (Debian
# packages), etcd-server and etcd-client (the cluster's control plane: docs/cluster.md),
# python3 with venv for the qdrant-client suite (python3-venv), and chromium with
# chromium-driver for the dashboard's browser tests (Tests/dashboard: Selenium drives
# Debian's headless Chromium through /usr/bin/chromedriver; nothing is downloaded).
# Swift 6.3.1 itself is expected on PATH. Idempotent; prints what it does.
set -euo pipefail

need=()
command -v pkg-config >/dev/null 2>&1 || need+=(pkg-config)
if command -v pkg-config >/dev/null 2>&1; then
  pkg-config --exists liblz4 || need+=(liblz4-dev)
  pkg-config --exists libzstd || need+=(libzstd-dev)
else
  need+=(liblz4-dev libzstd-dev)
fi

# The cluster (strata cluster local, strata clustertest, the etcd tests) runs Debian's etcd.
command -v etcd >/dev/null 2>&1 || need+=(etcd-server)
command -v etcdctl >/dev/null 2>&1 || need+=(etcd-client)

# The dashboard's browser tests (scripts/test.sh) drive Debian's Chromium.
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)

# The client suite (scripts/test.sh) needs python3 that can make a venv with pip.
if ! command -v python3 >/dev/null 2>&1; then
  need+=(python3 python3-venv)
elif ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
  need+=(python3-venv)
fi

if [ ${#need[@]} -gt 0 ]; then
  echo "bootstrap: installing ${need[*]} with apt-get"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "bootstrap: need root or sudo to apt-get install ${need[*]}" >&2; exit 1; }
    sudo="sudo"
  fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi

command -v swift >/dev/null 2>&1 || { echo "bootstrap: swift is not on PATH; install Swift 6.3.1 (see README)" >&2; exit 1; }
echo "bootstrap: ok ($(swift --version 2>/dev/null | head -1); lz4 $(pkg-config --modversion liblz4), zstd $(pkg-config --modversion libzstd); etcd $(etcd --version 2>/dev/null | sed -n 's/^etcd Version: //p'); $(python3 --version); $(chromium --version 2>/dev/null | head -1))"
