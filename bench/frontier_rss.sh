#!/usr/bin/env bash
# Frontier memory benchmark: a crawl that *discovers* ~2,000,000 distinct URLs while --max-pages
# bounds what it fetches. `crawld testsite` serves /wide/N pages generated on the fly, each with
# 1,000 links to new /wide/ URLs (no disk on the server side). crawld prints a progress line every
# second (--stats-lines: pages, known URLs, RSS); this script prints them, then peak RSS
# (/usr/bin/time) and RSS at 200k and at 2M known URLs, with the targets (peak <= 300 MB,
# ratio < 1.5).
#
# Usage: bench/frontier_rss.sh [build/crawld] [max_pages=2001]
set -euo pipefail
crawld=$(realpath "${1:-build/crawld}")
max_pages=${2:-2001}
addr=127.0.0.60
port=${FRONTIER_BENCH_PORT:-18460}
work=$(mktemp -d /tmp/crawld_frontier_bench.XXXXXX)
cleanup() {
  [ -n "${site_pid:-}" ] && kill "$site_pid" 2>/dev/null && wait "$site_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

"$crawld" testsite --hosts 1 --pages 10 --address "$addr" --port "$port" >/dev/null 2>&1 &
site_pid=$!
for _ in $(seq 1 100); do
  (exec 3<>/dev/tcp/$addr/"$port") 2>/dev/null && break
  sleep 0.05
done

echo "crawl: http://$addr:$port/wide/0 --max-pages $max_pages (each page links 1,000 new URLs)"
/usr/bin/time -f "%e %M" -o "$work/time" \
  "$crawld" crawl "http://$addr:$port/wide/0" --max-pages "$max_pages" --db "$work/db" \
  --concurrency 16 --per-host 16 --stats-lines 2>"$work/err" >"$work/out" || true
grep '^progress:' "$work/err" || true
cat "$work/out"
read -r secs peak_kb < <(tail -1 "$work/time")
du -sh "$work/db" | awk '{print "store on disk: " $1}'

# RSS at the first progress line with known >= N.
rss_at() { awk -v n="$1" '/^progress:/ { for (i = 1; i < NF; i++) { if ($i == "known") k = $(i+1); if ($i == "rss_mib") r = $(i+1) } if (k >= n) { print r; exit } }' "$work/err"; }
known_end=$(awk '/^progress:/ { for (i = 1; i < NF; i++) if ($i == "known") k = $(i+1) } END { print k + 0 }' "$work/err")
r200=$(rss_at 200000)
r2m=$(rss_at 2000000)
peak_mb=$(echo "scale=1; $peak_kb / 1024" | bc)
echo "----"
echo "known URLs at the last progress line: $known_end"
echo "seconds: $secs"
echo "peak RSS: ${peak_mb} MiB (target <= 300)"
echo "RSS at 200k known: ${r200:-n/a} MiB; at 2M known: ${r2m:-n/a} MiB"
if [ -n "$r200" ] && [ -n "$r2m" ]; then
  echo "ratio 2M/200k: $(echo "scale=2; $r2m / $r200" | bc) (target < 1.5)"
fi
