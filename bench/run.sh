#!/usr/bin/env bash
# Benchmark: crawld vs wget --recursive on the same synthetic web, served by nginx (one worker) on
# loopback, side by side in one run. Both obey robots.txt. Prints requests, seconds, pages/s, CPU seconds (user+sys),
# CPU s per 1,000 pages and peak RSS of each crawler, and the ratios.
#
# Usage: bench/run.sh [path/to/crawld]    (env: HOSTS=16 PAGES=2000 PORT=8088 CONCURRENCY=64 PER_HOST=8)
set -euo pipefail
crawld=$(realpath "${1:-build/crawld}")
hosts=${HOSTS:-16}
pages=${PAGES:-2000}
port=${PORT:-8088}
concurrency=${CONCURRENCY:-64}
per_host=${PER_HOST:-8}
for tool in nginx wget /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is missing (deploy/install-deps.sh installs it)"; exit 2; }
done

work=$(mktemp -d /tmp/crawld-bench.XXXXXX)
chmod 755 "$work"   # nginx workers run as another user
web=$work/web
nginx_pid=""
cleanup() {
  [ -n "$nginx_pid" ] && kill "$nginx_pid" 2>/dev/null && wait "$nginx_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

"$crawld" testsite --hosts "$hosts" --pages "$pages" --port "$port" --write "$web" >/dev/null
expected=$("$crawld" testsite --hosts "$hosts" --pages "$pages" --port "$port" --expected | wc -l)
nginx -e "$web/error.log" -p "$web" -c "$web/nginx.conf" &
nginx_pid=$!
first=http://127.0.0.10:$port/   # testsite's default first address
for _ in $(seq 1 100); do
  (exec 3<>/dev/tcp/127.0.0.10/"$port") 2>/dev/null && break
  sleep 0.05
done

seeds=()
domains=""
base=${first#http://}; base=${base%%:*}; prefix=${base%.*}; last=${base##*.}
for ((i = 0; i < hosts; i++)); do
  seeds+=("http://$prefix.$((last + i)):$port/")
  domains+="${domains:+,}$prefix.$((last + i))"
done

log_lines() { sleep 1; wc -l < "$web/access.log"; }

# run NAME COMMAND... : runs one crawler under /usr/bin/time, records its figures.
declare -A requests seconds cpu rss
run() {
  local name=$1; shift
  local before after
  before=$(log_lines)
  /usr/bin/time -f "%e %U %S %M" -o "$work/time.$name" "$@" >"$work/out.$name" 2>&1 || true
  after=$(log_lines)
  read -r e u s m < <(tail -1 "$work/time.$name")
  requests[$name]=$((after - before))
  seconds[$name]=$e
  cpu[$name]=$(echo "$u + $s" | bc -l)
  rss[$name]=$((m / 1024))
}

echo "web: $hosts hosts x $pages pages, $expected URLs expected, nginx 1 worker on $prefix.$last..$((last + hosts - 1)):$port"
run crawld "$crawld" crawl "${seeds[@]}" --concurrency "$concurrency" --per-host "$per_host" --db "$work/db"
mkdir -p "$work/wget" && cd "$work/wget"
run wget wget --recursive --level=inf --no-verbose -H --domains="$domains" "${seeds[@]}"
cd - >/dev/null

printf '\n%-8s %9s %9s %9s %8s %10s %9s\n' crawler requests seconds pages/s cpu_s cpu_s/1k rss_MB
for name in crawld wget; do
  rate=$(echo "${requests[$name]} / ${seconds[$name]}" | bc -l)
  per_k=$(echo "${cpu[$name]} * 1000 / ${requests[$name]}" | bc -l)
  printf '%-8s %9d %9.2f %9.1f %8.2f %10.3f %9d\n' "$name" "${requests[$name]}" "${seconds[$name]}" "$rate" \
    "${cpu[$name]}" "$per_k" "${rss[$name]}"
done
ratio=$(echo "(${requests[crawld]} / ${seconds[crawld]}) / (${requests[wget]} / ${seconds[wget]})" | bc -l)
printf '\ncrawld/wget pages/s: %.2fx   recall: crawld %d/%d, wget %d requests\n' "$ratio" "${requests[crawld]}" "$expected" "${requests[wget]}"
tail -3 "$work/out.crawld"
