#!/usr/bin/env bash
# A 3-member cluster crawl (coordinator + 2 nodes, all on this machine) vs a 1-process crawl of the
# same testsite, pages/s of each. On one machine this measures the cluster's overhead (member
# processes share the same cores), not a speed-up.
#
# Usage: bench/cluster_crawl.sh [build-dir]   (env: HOSTS=12 PAGES=500 LATENCY_MS=0 CONC=32 PER_HOST=4)
set -euo pipefail
build=${1:-build}
crawld=$(realpath "$build/crawld")
hosts=${HOSTS:-12} pages=${PAGES:-500} latency=${LATENCY_MS:-0} conc=${CONC:-32} per_host=${PER_HOST:-4}
port=${PORT:-18480} api=${API_PORT:-18490} cport=${CLUSTER_PORT:-18491}
work=$(mktemp -d /tmp/crawld-cluster-bench.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

"$crawld" testsite --hosts "$hosts" --pages "$pages" --port "$port" --latency-ms "$latency" >/dev/null &
pids+=($!)
for _ in $(seq 1 100); do (exec 3<>/dev/tcp/127.0.0.10/"$port") 2>/dev/null && break; sleep 0.05; done
seeds=() json=""
for ((i = 0; i < hosts; i++)); do
  seeds+=("http://127.0.0.$((10 + i)):$port/")
  json+="${json:+,}\"http://127.0.0.$((10 + i)):$port/\""
done
now() { date +%s.%N; }

echo "== testsite: $hosts hosts x $pages pages, latency ${latency} ms; concurrency $conc, per host $per_host (each member)"
t0=$(now)
"$crawld" crawl "${seeds[@]}" --db "$work/single" -q --concurrency "$conc" --per-host "$per_host"
t1=$(now)
single_pages=$("$crawld" stats --db "$work/single" | awk '/^pages/ {print $2; exit}')
printf '1 process : %6s pages in %6.2f s = %8.1f pages/s\n' "$single_pages" "$(echo "$t1 - $t0" | bc -l)" \
  "$(echo "$single_pages / ($t1 - $t0)" | bc -l)"

echo "bench-secret-$$" > "$work/secret"
echo "bench-token" > "$work/token"
cat > "$work/coord.toml" <<TOML
listen = "127.0.0.1"
port = $api
state_dir = "$work/coord"
token_file = "$work/token"
log_file = "$work/coord.log"
TOML
"$crawld" serve --config "$work/coord.toml" --cluster-listen "127.0.0.1:$cport" --cluster-secret-file "$work/secret" &
pids+=($!)
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$api/healthz" >/dev/null && break; sleep 0.05; done
for n in n1 n2; do
  printf 'state_dir = "%s"\ncluster_secret_file = "%s"\nlog_file = "%s"\n' "$work/$n" "$work/secret" "$work/$n.log" > "$work/$n.toml"
  "$crawld" node --join "127.0.0.1:$cport" --name "$n" --config "$work/$n.toml" &
  pids+=($!)
done
for _ in $(seq 1 200); do
  [ "$(curl -sf "http://127.0.0.1:$api/v1/cluster" | grep -o '"name"' | wc -l)" = 3 ] && break
  sleep 0.05
done
t0=$(now)
curl -sf -H "Authorization: Bearer bench-token" -d "{\"crawl\": {\"seeds\": [$json], \"concurrency\": $conc, \"per_host\": $per_host}}" \
  "http://127.0.0.1:$api/v1/jobs" >/dev/null
until curl -sf "http://127.0.0.1:$api/v1/jobs/1" | grep -q '"state":"finished"'; do sleep 0.05; done
t1=$(now)
cluster_json=$(curl -sf "http://127.0.0.1:$api/v1/cluster")
for p in "${pids[@]:1}"; do kill -TERM "$p" 2>/dev/null || true; done
sleep 2
total=0
for d in "$work/coord/jobs/1/store" "$work/n1/jobs/1/store" "$work/n2/jobs/1/store"; do
  n=$("$crawld" stats --db "$d" | awk '/^pages/ {print $2; exit}')
  total=$((total + ${n:-0}))
done
printf '3 members : %6s pages in %6.2f s = %8.1f pages/s (submit to finished, incl. the quiescence check)\n' \
  "$total" "$(echo "$t1 - $t0" | bc -l)" "$(echo "$total / ($t1 - $t0)" | bc -l)"
echo "members: $cluster_json"
