#!/usr/bin/env bash
# Cluster benchmarks that need no cluster: rendezvous hashing at scale (16 nodes x 1,000,000 hosts,
# then a 17th node joins and node-0 leaves) and cross-node URL forwarding over CAF's middleman on
# loopback, one message per URL vs acknowledged batches, side by side; then a 3-member cluster crawl
# of testsite vs a 1-process crawl (bench/cluster_crawl.sh).
#
# Usage: bench/cluster.sh [build-dir]   (env: NODES=16 HOSTS=1000000 URLS=200000 BATCH=256 WINDOW=8)
set -euo pipefail
build=${1:-build}
for b in rendezvous_sim forward_bench; do
  [ -x "$build/$b" ] || { echo "bench: $build/$b is missing (make build)"; exit 2; }
done
echo "== rendezvous hashing: ${NODES:-16} nodes x ${HOSTS:-1000000} hosts"
"$build/rendezvous_sim" "${NODES:-16}" "${HOSTS:-1000000}"
echo
echo "== forwarding ${URLS:-200000} URLs between two CAF actor systems over loopback TCP"
"$build/forward_bench" "${URLS:-200000}" "${BATCH:-256}" "${WINDOW:-8}"
echo
echo "== a 3-member cluster crawl vs a 1-process crawl of testsite (same machine: overhead, not speed-up)"
"$(dirname "$0")/cluster_crawl.sh" "$build"
