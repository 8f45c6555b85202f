#!/usr/bin/env bash
# Benchmark of the warm hit path in front of a 3-shard Redis Cluster against the same server in
# front of one Redis node, same machine, same run, same load tool (wrk at 1000 connections);
# beside it, Redis' own tool measuring the same two setups (redis-benchmark vs
# redis-benchmark --cluster), so the cluster's own cost on this machine is printed next to ours.
#
#   scripts/bench/cluster.sh [--duration 10] [--connections 1000]
#
# Needs: scripts/bootstrap --bench (wrk). Builds the release binary.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
DURATION=10
CONNECTIONS=1000
while (($#)); do
    case "$1" in
        --duration) DURATION=$2; shift 2 ;;
        --connections) CONNECTIONS=$2; shift 2 ;;
        *) echo "usage: $0 [--duration S] [--connections N]" >&2; exit 2 ;;
    esac
done

scripts/bootstrap --bench
WORK=$(mktemp -d /tmp/cacheload-bench-cluster.XXXXXX)
export CACHELOAD_SERVICES_ENV=$WORK/services.env
SERVER_PID=
cleanup() {
    [[ -n "$SERVER_PID" ]] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
    scripts/services stop >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT

echo "building the release binary…" >&2
swift build -c release --product cacheload >/dev/null
BIN=$(swift build -c release --show-bin-path)/cacheload
scripts/services start --cluster >/dev/null
set -a; . "$CACHELOAD_SERVICES_ENV"; set +a
"$BIN" seed >/dev/null
CLUSTER_PORT=${REDIS_CLUSTER_URL##*:}; CLUSTER_PORT=${CLUSTER_PORT%%/*}

start_server() { # start_server REDIS_URL → SERVER_PORT
    SERVER_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    "$BIN" serve --listen "127.0.0.1:$SERVER_PORT" --redis "$1" --log-level warning >"$WORK/serve.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 100); do curl -sf "http://127.0.0.1:$SERVER_PORT/health" >/dev/null && break; sleep 0.1; done
    "$BIN" warm --redis "$1" --top 1005 >/dev/null
}
stop_server() { kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=; }

cat >"$WORK/uniform.lua" <<'LUA'
math.randomseed(42)
request = function() return wrk.format(nil, "/product/" .. math.random(1, 1005)) end
LUA

run_wrk() { # run_wrk NAME → prints a row, sets RPS_NAME
    local out rps p99 non2xx
    out=$(wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$WORK/uniform.lua" "http://127.0.0.1:$SERVER_PORT")
    rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
    p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
    non2xx=$(awk '/Non-2xx/ {print $5}' <<<"$out")
    printf '%-30s %12s %10s %8s\n' "$1" "$rps" "$p99" "${non2xx:-0}"
    eval "RPS_$1=$rps"
}

echo
echo "warm GET /product/{id}, wrk -t2 -c$CONNECTIONS -d${DURATION}s, ids 1–1005, $(nproc) cores shared by everything"
printf '%-30s %12s %10s %8s\n' "target" "req/s" "p99" "non-2xx"
start_server "$REDIS_URL"; run_wrk single_node; stop_server
start_server "$REDIS_CLUSTER_URL"; run_wrk cluster_3_shards
BYPASSES=$(curl -s "http://127.0.0.1:$SERVER_PORT/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["server"]["bypasses"])')
MOVED=$(curl -s "http://127.0.0.1:$SERVER_PORT/metrics" | awk '/redirections_total\{kind="moved"\}/ {print $2}')
stop_server

# The peer: Redis' own benchmark, GET with 50 clients, one node vs the cluster (it routes by slot).
redis_benchmark() { redis-benchmark "$@" -t get -n 200000 -c 50 -r 1005 --csv 2>/dev/null | awk -F'"' '$2 == "GET" {print $4}'; }
RB_SINGLE=$(redis_benchmark -p "$REDIS_PORT")
RB_CLUSTER=$(redis_benchmark -p "$CLUSTER_PORT" --cluster)

echo "redis-benchmark GET, 50 clients: one node $RB_SINGLE req/s, --cluster $RB_CLUSTER req/s"
echo "during the cluster run: $BYPASSES BYPASS, ${MOVED:-0} MOVED"
echo
python3 - "$RPS_single_node" "$RPS_cluster_3_shards" "$RB_SINGLE" "$RB_CLUSTER" <<'PY'
import sys
single, cluster, rb_single, rb_cluster = map(float, sys.argv[1:])
print(f"cacheload: cluster / single node        : {cluster / single:.2f}   (target ≥ 0.90)")
print(f"redis-benchmark: cluster / single node  : {rb_cluster / rb_single:.2f}   (the peer's own ratio)")
PY
