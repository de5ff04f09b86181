#!/usr/bin/env bash
# Benchmark: downloading one URL list with crawld --urls, wget -i and xargs -P 64 curl, side by
# side against nginx on loopback. Prints requests, seconds, requests/s, CPU and peak RSS.
#
# Usage: bench/download.sh [path/to/crawld]   (env: URLS=5000 PORT=8089 CONCURRENCY=64 PER_HOST=8)
set -euo pipefail
crawld=$(realpath "${1:-build/crawld}")
count=${URLS:-5000}
hosts=8
pages=$(( (count + hosts - 1) / hosts + 1 ))
port=${PORT:-8089}
concurrency=${CONCURRENCY:-64}
per_host=${PER_HOST:-8}
for tool in nginx wget curl bc /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is missing"; exit 2; }
done
work=$(mktemp -d /tmp/crawld-download.XXXXXX)
source "$(dirname "$0")/common.sh"
trap 'stop_web; rm -rf "$work"' EXIT
start_web
# The list: page k of host k % hosts (all exist), interleaving hosts as a real list would.
for ((k = 1; k <= count; k++)); do
  h=$((k % hosts)); p=$((k / hosts + 1))
  echo "http://127.0.0.$((10 + h)):$port/s$((p % 16))/p$p.html"
done > "$work/list.txt"

echo "list: $count URLs on $hosts hosts, nginx 1 worker"
measure crawld "$crawld" crawl --urls "$work/list.txt" --depth 0 --ignore-robots --concurrency "$concurrency" \
  --per-host "$per_host" --db "$work/db" -q
mkdir -p "$work/wget" && cd "$work/wget"
measure wget wget -q -i "$work/list.txt"
cd - >/dev/null
mkdir -p "$work/curl" && cd "$work/curl"
measure curl sh -c "xargs -P $concurrency -n 50 curl -s -o /dev/null < '$work/list.txt'"
cd - >/dev/null
print_table crawld wget curl
for other in wget curl; do
  printf 'crawld/%s requests/s: %.2fx\n' "$other" \
    "$(echo "(${requests[crawld]} / ${seconds[crawld]}) / (${requests[$other]} / ${seconds[$other]})" | bc -l)"
done
