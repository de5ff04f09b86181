#!/usr/bin/env bash
# Installs crawld's build and test dependencies from Debian 12's packages. Idempotent: installs
# only what is missing, and runs `apt-get update` only when something is.
set -euo pipefail
pkgs=(
  tinyproxy openssl  # tests/fetch: a real proxy with basic auth; certificates made by the TLS tests
  build-essential cmake ninja-build pkg-config ccache
  libcaf-dev libcpp-httplib-dev libgumbo-dev librocksdb-dev libtomlplusplus-dev libcli11-dev
  libidn2-dev zlib1g-dev libbrotli-dev libssl-dev liblz4-dev
  libgtest-dev libgmock-dev
  nginx wget curl bc time
  # tests/daemon: promtool checks /metrics; headless chromium renders the status page (~100 MB,
  # kept because the browser test is the only check that the page's script really runs).
  prometheus chromium
  clang-14 libclang-rt-14-dev libfuzzer-14-dev
  wrk python3-aiohttp python3-doc  # bench/run.sh (issue 8); python3-doc also feeds tests/link_scan
)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#pkgs[@]} packages present"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
