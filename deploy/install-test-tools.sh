#!/usr/bin/env bash
# Installs the tools the tests use besides the apt packages: webrecorder's warcio (npm), which
# tests/storage/warcio_test.cpp runs to read and verify WARC files written by crawld.
# Installs into <repo>/build-tools (git-ignored), never globally. Idempotent: does nothing when the
# pinned version is already there. Fails loudly (exit 1) when node/npm are missing or the npm
# registry cannot be reached; the test itself skips only when node or warcio is absent.
set -euo pipefail
WARCIO_VERSION=2.4.11
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
prefix="$repo/build-tools"
pkg="$prefix/node_modules/warcio/package.json"

if [ -f "$pkg" ] && grep -q "\"version\": *\"$WARCIO_VERSION\"" "$pkg"; then
  echo "install-test-tools: warcio $WARCIO_VERSION present in $prefix"
  exit 0
fi
for tool in node npm; do
  if ! command -v "$tool" >/dev/null; then
    echo "install-test-tools: '$tool' not found; install Debian's nodejs and npm packages" >&2
    exit 1
  fi
done
if ! npm view "warcio@$WARCIO_VERSION" version >/dev/null 2>&1; then
  echo "install-test-tools: cannot reach the npm registry ($(npm config get registry)) for" \
       "warcio@$WARCIO_VERSION" >&2
  exit 1
fi
mkdir -p "$prefix"
echo "install-test-tools: installing warcio@$WARCIO_VERSION into $prefix"
if ! npm install --no-save --no-audit --no-fund --prefix "$prefix" "warcio@$WARCIO_VERSION"; then
  echo "install-test-tools: npm install warcio@$WARCIO_VERSION failed" >&2
  exit 1
fi
grep -q "\"version\": *\"$WARCIO_VERSION\"" "$pkg" || {
  echo "install-test-tools: warcio $WARCIO_VERSION not found in $prefix after install" >&2
  exit 1
}
echo "install-test-tools: done"
