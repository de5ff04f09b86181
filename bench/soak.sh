#!/usr/bin/env bash
# Soak benchmark (not CI): a long crawl of the synthetic testsite with the hostile endpoints
# (testsite/hostile.hpp, docs/hostile.md) mixed in, watched from outside.
#
#   [SOAK_PAGES=N] [SOAK_PORT=P] [SOAK_DB=0] [SOAK_LOG=FILE] bench/soak.sh [SECONDS=1800] [CRAWLD=build/crawld]
#
# Starts `crawld testsite --hosts 4 --pages SOAK_PAGES --hostile 127.0.0.90` on 127.0.0.80-83 (port
# SOAK_PORT, default 18480; SOAK_PAGES default 1000000, a web no crawl finishes: then the in-memory
# frontier of admitted, unfetched URLs grows all along and RSS with it; a small SOAK_PAGES, e.g.
# 2000, lets the four normal hosts finish in the first minutes, and the rest of the run is the
# endless hostile /mix tree alone, whose frontier grows slowly) and crawls its four hosts plus the hostile /mix/0 chain (every /mix
# page links each hostile endpoint again) into a store in a temporary directory. Every 10 s it
# samples the crawler's RSS (VmRSS) and open file descriptors (/proc/PID/fd). After SECONDS it
# sends SIGINT, and prints RSS min/median/max and the least-squares slope (MiB per hour, over the
# samples after the first minute, when the crawl has warmed up), the fd counts, and checks that
# the counters add up: admitted = finished (sum of outcomes) + unfinished. Exits 1 when they do
# not, or when the fd count at the end exceeds the first sample after warm-up by more than 64.
set -euo pipefail
DURATION=${1:-1800}
CRAWLD=${2:-build/crawld}
PORT=${SOAK_PORT:-18480}
PAGES=${SOAK_PAGES:-1000000}
[ -x "$CRAWLD" ] || { echo "soak: $CRAWLD not found (build it: make build)" >&2; exit 2; }

work=$(mktemp -d /tmp/crawld-soak.XXXXXX)
DB_ARGS=(--db "$work/db")  # SOAK_DB=0: no store (to tell the store's memory from the crawl's)
[ "${SOAK_DB:-1}" != 0 ] || DB_ARGS=()
site_pid=""
crawl_pid=""
cleanup() {
  [ -n "$crawl_pid" ] && kill "$crawl_pid" 2>/dev/null || true
  [ -n "$site_pid" ] && kill "$site_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  # SOAK_LOG=FILE keeps the crawl's stderr (its --stats-lines, one a second) for a closer look.
  [ -z "${SOAK_LOG:-}" ] || cp "$work/crawl.err" "$SOAK_LOG" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

"$CRAWLD" testsite --hosts 4 --pages "$PAGES" --address 127.0.0.80 --port "$PORT" --hostile 127.0.0.90 \
  > "$work/testsite.log" 2>&1 &
site_pid=$!
for _ in $(seq 1 100); do
  grep -q "Ctrl-C to stop" "$work/testsite.log" 2>/dev/null && break
  sleep 0.1
done
grep -q "Ctrl-C to stop" "$work/testsite.log" || { cat "$work/testsite.log" >&2; exit 1; }

"$CRAWLD" crawl "http://127.0.0.80:$PORT/" "http://127.0.0.81:$PORT/" "http://127.0.0.82:$PORT/" \
  "http://127.0.0.83:$PORT/" "http://127.0.0.90:$PORT/mix/0" \
  "${DB_ARGS[@]}" --concurrency 32 --connect-timeout 2 --read-timeout 3 --timeout 5 --max-body 4 \
  --retries 0 --stats-lines > "$work/crawl.out" 2> "$work/crawl.err" &
crawl_pid=$!

echo "soak: crawling for $DURATION s (pid $crawl_pid); samples every 10 s: seconds rss_mib fds"
start=$(date +%s)
: > "$work/samples"
while kill -0 "$crawl_pid" 2>/dev/null; do
  now=$(( $(date +%s) - start ))
  [ "$now" -ge "$DURATION" ] && break
  rss_kb=$(awk '/^VmRSS:/ {print $2}' "/proc/$crawl_pid/status" 2>/dev/null || echo "")
  fds=$(ls "/proc/$crawl_pid/fd" 2>/dev/null | wc -l)
  if [ -n "$rss_kb" ]; then
    echo "$now $((rss_kb / 1024)) $fds" | tee -a "$work/samples"
  fi
  sleep 10
done
kill -INT "$crawl_pid" 2>/dev/null || true
rc=0
wait "$crawl_pid" || rc=$?
crawl_pid=""
echo "soak: crawld exited with $rc (130 = stopped by SIGINT as intended)"
cat "$work/crawl.out"
if grep -qv '^progress:' "$work/crawl.err"; then
  echo "--- stderr (last 5 lines)"
  grep -v '^progress:' "$work/crawl.err" | tail -n 5
fi
echo "--- memory the crawl accounts for, once a minute (the rest of RSS: heap, threads, code)"
grep '^progress:' "$work/crawl.err" | awk 'int($2) % 60 == 0 && int($2) != last { last = int($2); print }' \
  | sed 's/^progress: //' | awk '{ printf "%s s rss %s MiB, RocksDB %s MiB, frontier %s MiB, heap used %s free %s mmap %s MiB, known %s\n", $1, $12, $14, $16, $18, $20, $22, $6 }' 

echo "--- RSS and file descriptors"
sort -n -k2 "$work/samples" | awk '{ r[NR] = $2 } END {
  if (NR == 0) { print "no samples"; exit }
  med = (NR % 2) ? r[(NR + 1) / 2] : (r[NR / 2] + r[NR / 2 + 1]) / 2
  printf "rss MiB: min %d, median %.1f, max %d (%d samples)\n", r[1], med, r[NR], NR }'
awk '$1 >= 60 { n++; sx += $1; sy += $2; sxx += $1 * $1; sxy += $1 * $2 } END {
  if (n < 2) { print "rss slope: too few samples after the first minute"; exit }
  d = n * sxx - sx * sx
  slope = d != 0 ? (n * sxy - sx * sy) / d : 0
  printf "rss slope after the first minute: %.2f MiB/hour (%d samples)\n", slope * 3600, n }' "$work/samples"
awk 'NR == 1 { first = $3 } $1 >= 60 && !w { warm = $3; w = 1 } { last = $3; if ($3 > max) max = $3 }
  END { printf "fds: first %d, after warm-up %d, last %d, max %d\n", first, warm, last, max }' "$work/samples"

status=0
fd_warm=$(awk '$1 >= 60 { print $3; exit }' "$work/samples")
fd_last=$(tail -n 1 "$work/samples" | awk '{print $3}')
if [ -n "$fd_warm" ] && [ "$fd_last" -gt $((fd_warm + 64)) ]; then
  echo "soak: FAIL file descriptors grew from $fd_warm to $fd_last"
  status=1
fi

line=$(grep '^admitted:' "$work/crawl.out" || true)
if [ -z "$line" ]; then
  echo "soak: FAIL no 'admitted:' line in the summary"
  exit 1
fi
admitted=$(echo "$line" | awk '{print $2}')
finished=$(echo "$line" | awk '{print $4}')
unfinished=$(echo "$line" | awk '{print $6}')
outcome_sum=$(grep '^outcomes:' "$work/crawl.out" | tr ',' '\n' | grep -oE '[0-9]+$' | awk '{s += $1} END {print s + 0}')
echo "--- counters: admitted $admitted = finished $finished + unfinished $unfinished? (sum of outcome counts: $outcome_sum)"
if [ "$admitted" -ne $((finished + unfinished)) ] || [ "$finished" -ne "$outcome_sum" ]; then
  echo "soak: FAIL the counters do not add up"
  status=1
else
  echo "soak: counters add up"
fi
exit $status
