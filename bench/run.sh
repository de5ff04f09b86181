#!/usr/bin/env bash
# Benchmark (issue 8): crawld vs `wget --recursive` vs a tutorial-style Python asyncio+aiohttp
# crawler (bench/aiohttp_crawler.py), side by side in one run, on two corpora served by nginx (one
# worker, keep-alive) on loopback:
#   synthetic  the testsite web, HOSTS x PAGES pages on 127.0.0.10.., robots.txt on every host;
#   pydoc      the CPython HTML documentation of Debian's python3-doc, one host, from /index.html.
# All crawlers obey robots.txt. For each: requests nginx logged, seconds, requests/s, CPU seconds
# (user+sys), CPU s per 1,000 requests, peak RSS, and recall: the expected URLs it fetched (synthetic:
# the testsite oracle `crawld testsite --expected`; pydoc: the set crawld fetched, so "extra" and
# "missing" there are relative to crawld). Then nginx's ceiling: wrk on the same URLs at the same
# concurrency, and the ratios. crawld and aiohttp run ROUNDS times, alternating (wget once: it
# takes minutes); a row is the crawler's median run by seconds, and every round's pages/s and the
# ratio of each round's crawld/aiohttp pair are printed too, since the speed of a shared machine
# drifts by tens of percent within minutes.
#
# Usage: bench/run.sh [path/to/crawld]
#   env: HOSTS=16 PAGES=2000 PORT=8088 CONCURRENCY=64 PER_HOST=8 CORPORA="synthetic pydoc"
#        CRAWLERS="crawld wget aiohttp" PYDOC=/usr/share/doc/python3/html WRK_SECONDS=10 ROUNDS=3
#        CRAWLD_LINK_PARSER=gumbo (crawld parses every page with gumbo, for comparison)
set -euo pipefail
crawld=$(realpath "${1:-build/crawld}")
bench=$(cd "$(dirname "$0")" && pwd)
hosts=${HOSTS:-16}
pages=${PAGES:-2000}
port=${PORT:-8088}
concurrency=${CONCURRENCY:-64}
per_host=${PER_HOST:-8}
corpora=${CORPORA:-synthetic pydoc}
crawlers=${CRAWLERS:-crawld wget aiohttp}
pydoc_dir=${PYDOC:-/usr/share/doc/python3/html}
wrk_seconds=${WRK_SECONDS:-10}
rounds=${ROUNDS:-3}
python=${PYTHON:-/usr/bin/python3}   # Debian's, with python3-aiohttp
for tool in nginx wget wrk "$python" bc /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is missing (deploy/install-deps.sh installs it)"; exit 2; }
done
"$python" -c 'import aiohttp' 2>/dev/null || { echo "bench: python3-aiohttp is missing"; exit 2; }
work=$(mktemp -d /tmp/crawld-bench.XXXXXX)
source "$bench/common.sh"
trap 'stop_web; rm -rf "$work"' EXIT

declare -A recall wrk_rate pages_rate round_names round_rate
rows=()

# run_crawler CORPUS TOOL ROUND SEEDS...: measures one run of a crawler, named CORPUS_TOOL_rROUND.
run_crawler() {
  local corpus=$1 tool=$2 round=$3; shift 3
  local name=${corpus}_${tool}_r$round dir=$work/$corpus-$tool-r$round
  mkdir -p "$dir"
  case $tool in
    crawld)
      measure "$name" "$crawld" crawl "$@" --concurrency "$concurrency" --per-host "$per_host" --db "$dir/db" ;;
    wget)
      local extra=()
      [ "$corpus" = pydoc ] && extra=(--reject 'css,js,ico,svg,woff,woff2')   # page requisites: crawld follows a/area only
      (cd "$dir" && measure "$name" wget --recursive --level=inf --no-verbose -H --domains="$domains" "${extra[@]}" "$@") ;;
    aiohttp)
      measure "$name" "$python" "$bench/aiohttp_crawler.py" --concurrency "$concurrency" --per-host "$per_host" "$@" ;;
  esac
  reload "$name"
  rm -rf "$dir/db"  # a crawl store per round would add up
}

# run_all CORPUS SEEDS...: every crawler, ROUNDS times alternating (wget in the first only); each
# crawler's row CORPUS_TOOL is its median run by seconds (its figures and nginx log).
run_all() {
  local corpus=$1 r tool; shift
  for r in $(seq 1 "$rounds"); do
    for tool in $crawlers; do
      [ "$tool" = wget ] && [ "$r" -gt 1 ] && continue
      run_crawler "$corpus" "$tool" "$r" "$@"
      round_names[${corpus}_$tool]+="${corpus}_${tool}_r$r "
    done
  done
  for tool in $crawlers; do
    local name=${corpus}_$tool median
    median=$(for x in ${round_names[$name]}; do echo "${seconds[$x]} $x"; done | sort -n |
             awk '{a[NR] = $2} END {print a[int((NR + 1) / 2)]}')
    requests[$name]=${requests[$median]}
    seconds[$name]=${seconds[$median]}
    cpu[$name]=${cpu[$median]}
    rss[$name]=${rss[$median]}
    cp "$work/log.$median" "$work/log.$name"
    cp "$work/out.$median" "$work/out.$name"
    rows+=("$name")
  done
}

# rate_rounds CORPUS TOOL: round_rate[CORPUS_TOOL] = pages/s of each run, in round order (recall
# computed per run, once).
rate_rounds() {
  local x hit rates=
  for x in ${round_names[${1}_$2]}; do
    read -r _ hit _ <<<"$("$python" "$bench/recall.py" "$work/expected.$1" "$work/log.$x")"
    rates+=$(printf '%.0f ' "$(echo "$hit / ${seconds[$x]}" | bc -l)")
  done
  round_rate[${1}_$2]=$rates
}
# measure runs in a subshell for wget (cd): re-read its figures from the files it left.
reload() {
  local name=$1 e u s m
  read -r e u s m < <(tail -1 "$work/time.$name")
  requests[$name]=$(wc -l < "$work/log.$name")
  seconds[$name]=$e
  cpu[$name]=$(echo "$u + $s" | bc -l)
  rss[$name]=$((m / 1024))
}

# run_wrk CORPUS PATHS_FILE BASE_URL: nginx's rate on those paths, same concurrency.
run_wrk() {
  local corpus=$1 paths=$2 base=$3
  cat > "$work/wrk.lua" <<'LUA'
local paths = {}
for line in io.lines(os.getenv("WRK_PATHS")) do paths[#paths + 1] = line end
local i = math.random(#paths)
request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end
LUA
  local out
  out=$(WRK_PATHS=$paths wrk -t2 -c"$concurrency" -d"${wrk_seconds}s" -s "$work/wrk.lua" "$base" 2>&1)
  wrk_rate[$corpus]=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
}

for corpus in $corpora; do
  case $corpus in
    synthetic)
      start_web
      "$crawld" testsite --hosts "$hosts" --pages "$pages" --port "$port" --expected > "$work/expected.synthetic"
      echo "synthetic: $hosts hosts x $pages pages, $(wc -l < "$work/expected.synthetic") URLs expected, nginx 1 worker on 127.0.0.10..$((9 + hosts)):$port"
      run_all synthetic "${seeds[@]}"
      grep "^http://127.0.0.10:$port/" "$work/expected.synthetic" | sed "s|^http://127.0.0.10:$port||" > "$work/paths.synthetic"
      run_wrk synthetic "$work/paths.synthetic" "http://127.0.0.10:$port"
      for tool in $crawlers; do
        recall[synthetic_$tool]=$("$python" "$bench/recall.py" "$work/expected.synthetic" "$work/log.synthetic_$tool")
      done
      ;;
    pydoc)
      if [ ! -f "$pydoc_dir/index.html" ]; then
        echo "pydoc: $pydoc_dir/index.html not found (apt-get install python3-doc); skipped"
        continue
      fi
      pydoc_dir=$(realpath "$pydoc_dir")
      start_pydoc "$pydoc_dir" 127.0.0.40 $((port + 1))
      domains=127.0.0.40
      echo "pydoc: $pydoc_dir ($(find -L "$pydoc_dir" -name '*.html' | wc -l) HTML files), nginx 1 worker on 127.0.0.40:$((port + 1))"
      run_all pydoc "$pydoc_url"
      # The expected set: what crawld fetched (when it ran), else the first crawler's.
      ref=$(for t in $crawlers; do echo "$t"; done | head -1)
      awk '{print "http://" $1 $4}' "$work/log.pydoc_$ref" | grep -v '/robots.txt$' | sort -u > "$work/expected.pydoc"
      awk '{print $4}' "$work/log.pydoc_$ref" | grep -v '^/robots.txt$' | sort -u > "$work/paths.pydoc"
      run_wrk pydoc "$work/paths.pydoc" "http://127.0.0.40:$((port + 1))"
      for tool in $crawlers; do
        recall[pydoc_$tool]=$("$python" "$bench/recall.py" "$work/expected.pydoc" "$work/log.pydoc_$tool")
      done
      ;;
    *) echo "bench: unknown corpus $corpus"; exit 2 ;;
  esac
done

printf '\n%-16s %9s %8s %9s %9s %8s %9s %7s  %s\n' crawler requests seconds req/s pages/s cpu_s cpu_s/1k rss_MB \
  "recall (expected fetched/expected, extra URLs, repeated requests)"
for name in "${rows[@]}"; do
  read -r distinct hit want extra repeats <<<"${recall[$name]}"
  rate=$(echo "${requests[$name]} / ${seconds[$name]}" | bc -l)
  per_k=$(echo "${cpu[$name]} * 1000 / (${requests[$name]} + 0.000001)" | bc -l)
  pages_rate[$name]=$(echo "$hit / ${seconds[$name]}" | bc -l)
  printf '%-16s %9d %8.2f %9.1f %9.1f %8.2f %9.3f %7d  %d/%d, %d extra, %d repeats\n' "$name" "${requests[$name]}" \
    "${seconds[$name]}" "$rate" "${pages_rate[$name]}" "${cpu[$name]}" "$per_k" "${rss[$name]}" "$hit" "$want" \
    "$extra" "$repeats"
done
for corpus in $corpora; do
  [ -n "${wrk_rate[$corpus]:-}" ] || continue
  printf '%-16s %9s %8s %9.1f %9s   (nginx ceiling: wrk -t2 -c%d, %d s, same URLs)\n' "${corpus}_wrk" - - \
    "${wrk_rate[$corpus]}" - "$concurrency" "$wrk_seconds"
done
echo "pages/s: expected URLs fetched per second (repeats and extras not counted); ratios below use it,"
echo "the wrk ceiling is requests/s."
rate_of() { echo "${pages_rate[$1]}"; }
for corpus in $corpora; do
  [ -n "${requests[${corpus}_crawld]:-}" ] || continue
  c=$(rate_of "${corpus}_crawld")
  line="$corpus: crawld"
  for other in wget aiohttp; do
    [ -n "${requests[${corpus}_$other]:-}" ] || continue
    line+=$(printf '  %.2fx %s' "$(echo "$c / $(rate_of "${corpus}_$other")" | bc -l)" "$other")
  done
  [ -n "${wrk_rate[$corpus]:-}" ] && line+=$(printf '  = %.0f%% of the wrk ceiling' "$(echo "100 * $c / ${wrk_rate[$corpus]}" | bc -l)")
  echo "$line"
  grep -h "^link parser:" "$work/out.${corpus}_crawld" 2>/dev/null | sed "s/^/$corpus: crawld /" || true
  line="$corpus rounds, pages/s:"
  for tool in $crawlers; do
    rate_rounds "$corpus" "$tool"
    line+=" $tool ${round_rate[${corpus}_$tool]}"
  done
  echo "$line"
  if [ -n "${round_names[${corpus}_aiohttp]:-}" ]; then
    read -r -a cr <<<"${round_rate[${corpus}_crawld]}"
    read -r -a ar <<<"${round_rate[${corpus}_aiohttp]}"
    line="$corpus rounds, crawld/aiohttp:"
    for i in "${!cr[@]}"; do line+=$(printf ' %.2fx' "$(echo "${cr[$i]} / ${ar[$i]}" | bc -l)"); done
    echo "$line"
  fi
done
