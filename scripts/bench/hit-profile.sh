#!/usr/bin/env bash
# What one warm hit costs the server: `perf stat` on the server process (and on Redis) while
# `cacheload load` drives 10,000 req/s of warm GET /product/{id} over 100 connections for 10 s.
# Prints CPU µs, context switches and system calls per request, Redis' share and the p99.
# Needs Linux perf and the services (`scripts/services start`); not part of `make bench`.
#
#   scripts/bench/hit-profile.sh [--binary PATH] [--label NAME] [-- serve options…]
#   scripts/bench/hit-profile.sh -- --near-cache 10000
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
BIN=
LABEL=server
while (($#)); do
    case "$1" in
        --binary) BIN=$(realpath "$2"); shift 2 ;;
        --label) LABEL=$2; shift 2 ;;
        --) shift; break ;;
        *) echo "usage: $0 [--binary PATH] [--label NAME] [-- serve options…]" >&2; exit 2 ;;
    esac
done
command -v perf >/dev/null || { echo "needs perf (apt-get install linux-perf)" >&2; exit 1; }
[[ -f .services.env ]] || { echo "start the services first: scripts/services start" >&2; exit 1; }
set -a; . ./.services.env; set +a
LOAD=$(swift build -c release --show-bin-path)/cacheload
[[ -x "$LOAD" ]] || swift build -c release --product cacheload >/dev/null
BIN=${BIN:-$LOAD}
WORK=$(mktemp -d /tmp/cacheload-hit-profile.XXXXXX)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$BIN" serve --listen "127.0.0.1:$PORT" --log-level error "$@" >"$WORK/serve.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/health" >/dev/null && break; sleep 0.1; done
"$LOAD" warm --top 1005 >/dev/null
# Two passes over the keys first, so a near cache holds them all before the measured run.
for _ in 1 2; do "$LOAD" load "http://127.0.0.1:$PORT/product/{key}" --rate 5000 -c 20 -d 2s -q >/dev/null 2>&1; done
perf stat -e task-clock,context-switches,raw_syscalls:sys_enter -p "$SERVER" -o "$WORK/server.txt" -- sleep 10 &
P1=$!
perf stat -e task-clock,raw_syscalls:sys_enter -p "$(cat "$CACHELOAD_SERVICES_DIR/redis.pid")" -o "$WORK/redis.txt" -- sleep 10 &
P2=$!
"$LOAD" load "http://127.0.0.1:$PORT/product/{key}" --rate 10000 -c 100 -d 10s --json "$WORK/run.json" -q >/dev/null
wait $P1 $P2
python3 - "$LABEL" "$WORK" <<'PY'
import json, sys
label, work = sys.argv[1:]
def stat(path, event):
    for line in open(path):
        if event in line:
            return float(line.split()[0].replace(',', ''))
    return float('nan')
summary = json.load(open(f"{work}/run.json"))["summary"]
n = summary["requests"]
s, r = f"{work}/server.txt", f"{work}/redis.txt"
print(f"{label}: {n} requests at 10,000 req/s; per request: server {stat(s, 'task-clock') * 1000 / n:.1f} µs CPU, "
      f"{stat(s, 'context-switches') / n:.2f} context switches, {stat(s, 'sys_enter') / n:.2f} system calls; "
      f"Redis {stat(r, 'task-clock') * 1000 / n:.1f} µs, {stat(r, 'sys_enter') / n:.2f} system calls; "
      f"p99 {summary['latency_ms']['p99']} ms")
PY
