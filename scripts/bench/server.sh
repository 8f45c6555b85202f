#!/usr/bin/env bash
# Benchmark of the cache-aside server against nginx serving a small static file, same machine,
# same run, same load tool (wrk). Prints requests/s, p50/p99, errors and the ratios.
#
#   scripts/bench/server.sh [--duration 10] [--connections 1000] [--slow-seconds 3]
#
# Needs: scripts/bootstrap --bench (wrk, nginx-light). Builds the release binary.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
DURATION=10
CONNECTIONS=1000
SLOW_SECONDS=3
while (($#)); do
    case "$1" in
        --duration) DURATION=$2; shift 2 ;;
        --connections) CONNECTIONS=$2; shift 2 ;;
        --slow-seconds) SLOW_SECONDS=$2; shift 2 ;;
        *) echo "usage: $0 [--duration S] [--connections N] [--slow-seconds S]" >&2; exit 2 ;;
    esac
done

scripts/bootstrap --bench
WORK=$(mktemp -d /tmp/cacheload-bench.XXXXXX)
chmod 755 "$WORK"  # nginx workers run unprivileged and must read the files
export CACHELOAD_SERVICES_ENV=$WORK/services.env
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    scripts/services stop >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT

echo "building the release binary…" >&2
swift build -c release --product cacheload >/dev/null
BIN=$(swift build -c release --show-bin-path)/cacheload
scripts/services start >/dev/null
set -a; . "$CACHELOAD_SERVICES_ENV"; set +a
"$BIN" seed --slow-seconds "$SLOW_SECONDS" >/dev/null

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# nginx: a small JSON file under the same paths the server answers.
NGINX_PORT=$(free_port)
mkdir -p "$WORK/nginx/www"
cat >"$WORK/nginx/nginx.conf" <<NGINX
worker_processes auto;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log;
daemon off;
events { worker_connections 8192; }
http {
    access_log off;
    client_body_temp_path $WORK/nginx; proxy_temp_path $WORK/nginx; fastcgi_temp_path $WORK/nginx;
    uwsgi_temp_path $WORK/nginx; scgi_temp_path $WORK/nginx;
    server {
        listen 127.0.0.1:$NGINX_PORT backlog=4096;
        root $WORK/nginx/www;
        location /product/ { default_type application/json; try_files /product.json =404; }
    }
}
NGINX
START_PRODUCT=$(psql "$DATABASE_URL" -Atc "SELECT json_build_object('id',id,'name',name,'price',price,'description',description,'views',views) FROM products WHERE id = 1")
echo "{\"product\":$START_PRODUCT,\"cache_status\":\"HIT\",\"response_time_ms\":0.100}" >"$WORK/nginx/www/product.json"
nginx -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx" &
PIDS+=($!)

start_server() { # start_server on|off [serve options…] → sets SERVER_PORT
    SERVER_PORT=$(free_port)
    local cache=$1; shift
    "$BIN" serve --listen "127.0.0.1:$SERVER_PORT" --cache "$cache" --log-level warning "$@" >"$WORK/serve-$cache.log" 2>&1 &
    SERVER_PID=$!
    PIDS+=($SERVER_PID)
    for _ in $(seq 100); do curl -sf "http://127.0.0.1:$SERVER_PORT/health" >/dev/null && return; sleep 0.1; done
    echo "server did not start: $(cat "$WORK/serve-$cache.log")" >&2; exit 1
}
stop_server() { kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; }

cat >"$WORK/uniform.lua" <<'LUA'
math.randomseed(42)
request = function() return wrk.format(nil, "/product/" .. math.random(1, 1005)) end
LUA

# run_wrk NAME URL [extra wrk args] → a result line
run_wrk() {
    local name=$1 url=$2; shift 2
    local out rps p50 p99 errors non2xx
    out=$(wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$WORK/uniform.lua" "$@" "$url")
    rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
    p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
    p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
    errors=$(awk '/Socket errors:/ {gsub(",", ""); print $4 + $6 + $8 + $10}' <<<"$out")
    non2xx=$(awk '/Non-2xx/ {print $5}' <<<"$out")
    printf '%-34s %12s %10s %10s %8s %8s\n' "$name" "$rps" "$p50" "$p99" "${errors:-0}" "${non2xx:-0}"
    eval "RPS_$name=$rps"
}

echo
echo "wrk -t2 -c$CONNECTIONS -d${DURATION}s, uniform ids 1–1005, $(nproc) cores shared by load and target"
printf '%-34s %12s %10s %10s %8s %8s\n' "target" "req/s" "p50" "p99" "sock-err" "non-2xx"
run_wrk nginx_static "http://127.0.0.1:$NGINX_PORT"

# Cache on, pushing to the local CloudWatch every 5 s, with /metrics scraped during the run.
start_server on --cloudwatch --flush-interval 5 --environment bench
"$BIN" warm --top 1005 >/dev/null
( sleep 2; for _ in $(seq 10); do curl -s -o /dev/null -w '%{time_total} %{size_download}\n' "http://127.0.0.1:$SERVER_PORT/metrics"; sleep 0.5; done ) >"$WORK/scrapes.txt" &
SCRAPER=$!
run_wrk cacheload_cache_on "http://127.0.0.1:$SERVER_PORT"
wait "$SCRAPER"
SCRAPE=$(awk '{t += $1; b += $2; n++} END {printf "%.1f ms, %d bytes", t / n * 1000, b / n}' "$WORK/scrapes.txt")
sleep 5  # one more flush interval, so the run's last datums are pushed
PUTS=$(curl -s "http://127.0.0.1:$SERVER_PORT/metrics" | awk '/^cacheload_cloudwatch_put_requests_total/ {print $2}')
DATUMS=$(curl -s "http://127.0.0.1:$SERVER_PORT/metrics" | awk '/^cacheload_cloudwatch_datums_sent_total/ {print $2}')
# Constant rate, coordinated-omission-correct: 10,000 req/s over 1000 connections.
RATE_OUT=$("$BIN" load "http://127.0.0.1:$SERVER_PORT/product/{key}" --rate 10000 -c "$CONNECTIONS" -d "${DURATION}s" --warmup 2s -q)
RATE_P99=$(awk '/^ +99.000%/ {print $2}' <<<"$RATE_OUT")
RATE_ACHIEVED=$(awk '/^Requests\/sec:/ {print $2}' <<<"$RATE_OUT")
# The slow page: first request pays slow_version(), then it is served from the cache.
COLD=$(curl -s -o /dev/null -w '%{time_total}' "http://127.0.0.1:$SERVER_PORT/")
SLOW_OUT=$(wrk -t1 -c1 -d5s --latency "http://127.0.0.1:$SERVER_PORT/")
SLOW_P50=$(awk '$1 == "50%" {print $2}' <<<"$SLOW_OUT")
stop_server

start_server off
run_wrk cacheload_cache_off "http://127.0.0.1:$SERVER_PORT"
stop_server

# The S3 sample: 100 objects of 1 KB, GET /object/{key} with the cache off vs on.
"$BIN" s3 load-data --bucket cacheload-bench --count 100 --size 1KB --no-cache >/dev/null
s3_run() {
    "$BIN" load "http://127.0.0.1:$SERVER_PORT/object/object-{key}" --keys 1-100 -c 50 -d "${DURATION}s" -q |
        awk '/^ +50.000%/ {p50=$2} /^Requests\/sec:/ {rps=$2} END {print p50, rps}'
}
start_server off --s3-bucket cacheload-bench; read -r S3_OFF_P50 S3_OFF_RPS < <(s3_run); stop_server
start_server on --s3-bucket cacheload-bench; read -r S3_ON_P50 S3_ON_RPS < <(s3_run); stop_server
echo "/metrics scraped under load at $CONNECTIONS connections: $SCRAPE (mean of 10)"
echo "CloudWatch during the cache-on run (flush every 5 s): ${PUTS:-0} PutMetricData requests, ${DATUMS:-0} datums"
echo "S3 objects (1 KB, 100 keys, 50 connections): cache off p50 $S3_OFF_P50 at $S3_OFF_RPS req/s; cache on p50 $S3_ON_P50 at $S3_ON_RPS req/s"

echo
python3 - "$RPS_nginx_static" "$RPS_cacheload_cache_on" "$RPS_cacheload_cache_off" "$COLD" "$SLOW_P50" "$RATE_P99" "$RATE_ACHIEVED" <<'PY'
import sys
nginx, on, off, cold, slow_p50, rate_p99, rate_achieved = sys.argv[1:]
nginx, on, off = float(nginx), float(on), float(off)
print(f"server (cache on) / nginx static : {on / nginx:.2f}   (target ≥ 0.35)")
print(f"cache on / cache off             : {on / off:.1f}×")
print(f"GET / cold (slow_version)        : {float(cold) * 1000:.0f} ms")
print(f"GET / warm p50                   : {slow_p50}   (target < 1 ms)")
print(f"10,000 req/s constant rate       : p99 {rate_p99} at {float(rate_achieved):.0f} req/s achieved   (target p99 ≤ 10 ms)")
PY
