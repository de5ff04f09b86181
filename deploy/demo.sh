#!/usr/bin/env bash
# The README's demo: serve the built-in synthetic web on 127.0.0.10-13 and crawl it.
# Usage: deploy/demo.sh [path/to/crawld]
set -euo pipefail
crawld=${1:-build/crawld}
port=${DEMO_PORT:-8080}
db=$(mktemp -d /tmp/crawld-demo.XXXXXX)/store
"$crawld" testsite --hosts 4 --pages 500 --port "$port" &
site=$!
trap 'kill $site 2>/dev/null; wait $site 2>/dev/null || true' EXIT
# Wait (bounded) until the site answers.
for _ in $(seq 1 50); do
  if (exec 3<>/dev/tcp/127.0.0.10/"$port") 2>/dev/null; then break; fi
  sleep 0.1
done
echo
echo "\$ crawld crawl http://127.0.0.1{0..3}:$port/ --db $db --concurrency 64 --per-host 8"
"$crawld" crawl "http://127.0.0.10:$port/" "http://127.0.0.11:$port/" "http://127.0.0.12:$port/" \
  "http://127.0.0.13:$port/" --db "$db" --concurrency 64 --per-host 8
echo
echo "\$ crawld stats --db $db"
"$crawld" stats --db "$db" --top 4
echo
echo "\$ crawld url http://a.example/x/y.html ../z?b=2#f"
"$crawld" url http://a.example/x/y.html '../z?b=2#f'
