#!/usr/bin/env bash
# Benchmark of the load generator against wrk, same machine, same run, same target (nginx
# serving a small file): requests/s ratio and peak RSS at 100 and 1000 connections.
#
#   scripts/bench/loadgen.sh [--duration 10]
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
DURATION=10
while (($#)); do
    case "$1" in
        --duration) DURATION=$2; shift 2 ;;
        *) echo "usage: $0 [--duration S]" >&2; exit 2 ;;
    esac
done

scripts/bootstrap --bench
WORK=$(mktemp -d /tmp/cacheload-bench-loadgen.XXXXXX)
chmod 755 "$WORK"  # nginx workers run unprivileged and must read the files
NGINX_PID=
cleanup() {
    [[ -n "$NGINX_PID" ]] && kill "$NGINX_PID" 2>/dev/null && wait "$NGINX_PID" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT

echo "building the release binary…" >&2
swift build -c release --product cacheload >/dev/null
BIN=$(swift build -c release --show-bin-path)/cacheload

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$WORK/www"
printf '{"product":{"id":1,"name":"Product 1","price":19.99},"cache_status":"HIT"}' >"$WORK/www/index.json"
cat >"$WORK/nginx.conf" <<NGINX
worker_processes auto;
pid $WORK/nginx.pid;
error_log $WORK/error.log;
daemon off;
events { worker_connections 8192; }
http {
    access_log off;
    client_body_temp_path $WORK; proxy_temp_path $WORK; fastcgi_temp_path $WORK; uwsgi_temp_path $WORK; scgi_temp_path $WORK;
    server {
        listen 127.0.0.1:$PORT backlog=4096;
        root $WORK/www;
        location / { default_type application/json; try_files /index.json =404; }
    }
}
NGINX
nginx -c "$WORK/nginx.conf" -p "$WORK" &
NGINX_PID=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$PORT/" >/dev/null && break; sleep 0.1; done

# measure NAME COMMAND... → "req/s peak-RSS-MB"
measure() {
    local out
    out=$( { /usr/bin/time -f 'MAXRSS %M' "$@" ; } 2>&1 )
    local rps rss
    rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
    rss=$(awk '/^MAXRSS/ {printf "%.1f", $2 / 1024}' <<<"$out")
    echo "$rps $rss"
}

command -v /usr/bin/time >/dev/null || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 1; }
echo
echo "nginx static file, ${DURATION}s per run, $(nproc) cores shared by load tool and target"
printf '%-12s %-10s %12s %10s %12s %10s %8s\n' connections tool req/s "RSS MB" "vs wrk" "" ""
for connections in 100 1000; do
    read -r wrk_rps wrk_rss < <(measure wrk -t2 -c"$connections" -d"${DURATION}s" "http://127.0.0.1:$PORT/")
    read -r cl_rps cl_rss < <(measure "$BIN" load "http://127.0.0.1:$PORT/" -c "$connections" -d "${DURATION}s" --threads 2 -q)
    # ab (keep-alive, a fixed request count sized to last about as long as the others)
    ab_requests=$(python3 -c "print(int(float('$wrk_rps') * $DURATION / 2))")
    ab_out=$( { /usr/bin/time -f 'MAXRSS %M' ab -q -k -c "$connections" -n "$ab_requests" "http://127.0.0.1:$PORT/" ; } 2>&1 )
    ab_rps=$(awk '/^Requests per second:/ {print $4}' <<<"$ab_out")
    ab_rss=$(awk '/^MAXRSS/ {printf "%.1f", $2 / 1024}' <<<"$ab_out")
    printf '%-12s %-10s %12s %10s\n' "$connections" wrk "$wrk_rps" "$wrk_rss"
    printf '%-12s %-10s %12s %10s %11.2f×\n' "$connections" cacheload "$cl_rps" "$cl_rss" "$(python3 -c "print($cl_rps / $wrk_rps)")"
    printf '%-12s %-10s %12s %10s %11.2f×\n' "$connections" ab "$ab_rps" "$ab_rss" "$(python3 -c "print(${ab_rps:-0} / $wrk_rps)")"
done
echo
echo "targets: cacheload ≥ 0.8× wrk's rate; RSS ≤ 100 MB at 1000 connections"
