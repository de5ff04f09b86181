#!/usr/bin/env bash
# Benchmark: crawld vs wget --recursive on the same synthetic web, served by nginx (one worker) on
# loopback, side by side in one run. Both obey robots.txt. Prints requests, seconds, pages/s, CPU
# seconds (user+sys), CPU s per 1,000 requests and peak RSS of each crawler, and the ratio.
#
# Usage: bench/run.sh [path/to/crawld]    (env: HOSTS=16 PAGES=2000 PORT=8088 CONCURRENCY=64 PER_HOST=8)
set -euo pipefail
crawld=$(realpath "${1:-build/crawld}")
hosts=${HOSTS:-16}
pages=${PAGES:-2000}
port=${PORT:-8088}
concurrency=${CONCURRENCY:-64}
per_host=${PER_HOST:-8}
for tool in nginx wget bc /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is missing (deploy/install-deps.sh installs it)"; exit 2; }
done
work=$(mktemp -d /tmp/crawld-bench.XXXXXX)
source "$(dirname "$0")/common.sh"
trap 'stop_web; rm -rf "$work"' EXIT
start_web
expected=$("$crawld" testsite --hosts "$hosts" --pages "$pages" --port "$port" --expected | wc -l)

echo "web: $hosts hosts x $pages pages, $expected URLs expected, nginx 1 worker on 127.0.0.10..$((9 + hosts)):$port"
measure crawld "$crawld" crawl "${seeds[@]}" --concurrency "$concurrency" --per-host "$per_host" --db "$work/db"
mkdir -p "$work/wget" && cd "$work/wget"
measure wget wget --recursive --level=inf --no-verbose -H --domains="$domains" "${seeds[@]}"
cd - >/dev/null
print_table crawld wget
ratio=$(echo "(${requests[crawld]} / ${seconds[crawld]}) / (${requests[wget]} / ${seconds[wget]})" | bc -l)
printf '\ncrawld/wget requests/s: %.2fx   time to finish: wget %.1f s / crawld %.1f s = %.1fx\n' "$ratio" \
  "${seconds[wget]}" "${seconds[crawld]}" "$(echo "${seconds[wget]} / ${seconds[crawld]}" | bc -l)"
printf 'recall: crawld %d requests for %d expected URLs (+ robots.txt per host); wget %d requests\n' \
  "${requests[crawld]}" "$expected" "${requests[wget]}"
tail -4 "$work/out.crawld"
