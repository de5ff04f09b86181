# Shared by the benchmarks: a static export of testsite served by nginx on loopback, and a runner
# that measures a command with /usr/bin/time and counts the requests nginx served meanwhile.
# Expects: crawld (path), hosts, pages, port, work (a temp dir). Sets: web, nginx_pid, seeds[], domains,
# access_log (what `measure` counts; nginx logs "ADDR:PORT STATUS REQUEST-LINE", so each crawler's
# URLs can be checked against the expected set with bench/recall.py).

# warm_files DIR: writes back and reads every file once, so the first crawler measured does not
# pay for the site's writeback (~1 GB just written) or a cold page cache and the others do not.
warm_files() {
  sync
  find -L "$1" -type f -print0 | xargs -0 cat > /dev/null
}

start_web() {
  chmod 755 "$work"   # nginx workers run as another user
  web=$work/web
  "$crawld" testsite --hosts "$hosts" --pages "$pages" --port "$port" --write "$web" >/dev/null
  warm_files "$web"
  sed -i "s/log_format crawl '\$remote_addr /log_format crawl '\$server_addr:\$server_port /" "$web/nginx.conf"
  access_log=$web/access.log
  nginx -e "$web/error.log" -p "$web" -c "$web/nginx.conf" &
  nginx_pid=$!
  for _ in $(seq 1 100); do
    (exec 3<>/dev/tcp/127.0.0.10/"$port") 2>/dev/null && break
    sleep 0.05
  done
  seeds=()
  domains=""
  for ((i = 0; i < hosts; i++)); do
    seeds+=("http://127.0.0.$((10 + i)):$port/")
    domains+="${domains:+,}127.0.0.$((10 + i))"
  done
}

# start_pydoc DIR ADDRESS PORT: serves a directory tree (the CPython docs) with the same nginx
# settings (one worker, keep-alive, sendfile); sets pydoc_pid, pydoc_url and access_log.
start_pydoc() {
  local dir=$1 address=$2 p=$3 conf=$work/pydoc
  mkdir -p "$conf/tmp"
  chmod 755 "$conf"
  {
    echo "worker_processes 1; daemon off; pid $conf/nginx.pid; error_log $conf/error.log warn;"
    echo "events { worker_connections 4096; }"
    echo "http {"
    echo "  include /etc/nginx/mime.types; default_type application/octet-stream;"
    echo "  log_format crawl '\$server_addr:\$server_port \$status \$request';"
    echo "  access_log $conf/access.log crawl buffer=256k flush=500ms;"
    echo "  sendfile on; tcp_nopush on; keepalive_requests 100000; keepalive_timeout 30s; gzip off;"
    for t in client_body proxy fastcgi uwsgi scgi; do echo "  ${t}_temp_path $conf/tmp;"; done
    echo "  server { listen $address:$p; root $dir; }"
    echo "}"
  } > "$conf/nginx.conf"
  nginx -e "$conf/error.log" -p "$conf" -c "$conf/nginx.conf" &
  pydoc_pid=$!
  for _ in $(seq 1 100); do
    (exec 3<>/dev/tcp/"$address"/"$p") 2>/dev/null && break
    sleep 0.05
  done
  warm_files "$dir"
  pydoc_url=http://$address:$p/index.html
  access_log=$conf/access.log
}

stop_web() {
  [ -n "${nginx_pid:-}" ] && kill "$nginx_pid" 2>/dev/null && wait "$nginx_pid" 2>/dev/null || true
  [ -n "${pydoc_pid:-}" ] && kill "$pydoc_pid" 2>/dev/null && wait "$pydoc_pid" 2>/dev/null || true
}

log_lines() { sleep 1; wc -l < "$access_log"; }

# measure NAME COMMAND... : fills requests[NAME] seconds[NAME] cpu[NAME] rss[NAME] (MB) and saves the
# requests nginx logged meanwhile in $work/log.NAME
declare -A requests seconds cpu rss
measure() {
  local name=$1; shift
  local before after e u s m
  before=$(log_lines)
  /usr/bin/time -f "%e %U %S %M" -o "$work/time.$name" "$@" >"$work/out.$name" 2>&1 || true
  after=$(log_lines)
  read -r e u s m < <(tail -1 "$work/time.$name")
  requests[$name]=$((after - before))
  sed -n "$((before + 1)),${after}p" "$access_log" > "$work/log.$name"
  seconds[$name]=$e
  cpu[$name]=$(echo "$u + $s" | bc -l)
  rss[$name]=$((m / 1024))
}

print_table() {
  printf '\n%-8s %9s %9s %9s %8s %10s %9s\n' tool requests seconds req/s cpu_s cpu_s/1k rss_MB
  for name in "$@"; do
    local rate per_k
    rate=$(echo "${requests[$name]} / ${seconds[$name]}" | bc -l)
    per_k=$(echo "${cpu[$name]} * 1000 / (${requests[$name]} + 0.000001)" | bc -l)
    printf '%-8s %9d %9.2f %9.1f %8.2f %10.3f %9d\n' "$name" "${requests[$name]}" "${seconds[$name]}" "$rate" \
      "${cpu[$name]}" "$per_k" "${rss[$name]}"
  done
}
