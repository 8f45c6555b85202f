#!/usr/bin/env bash
# A fleet behind a balancer on one machine: cacheload serve instances behind Debian's HAProxy
# (round robin, /health checks as an ALB target group does them), warm products, closed loop.
# Two cores cannot show a scaling curve, so the CPU budget is fixed instead: every serve
# instance shares core 1, HAProxy and the load generator share core 0. What each added instance
# takes from the others, and what the balancer itself costs per request, is what is printed:
#
#   direct to one instance (no balancer) · through HAProxy to 1, 2 and 3 instances
#   req/s, req/s per instance, p99, serve CPU µs per request, HAProxy CPU µs per request
#
#   scripts/bench/balancer.sh [--duration 10]
#
# Needs: scripts/bootstrap (haproxy). Builds the release binary.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
. scripts/bench/common.sh
DURATION=10
bench_options "$@"
bench_start balancer
bench_binary
bench_services
HAPROXY_PID=
balancer_cleanup() {
    [[ -n $HAPROXY_PID ]] && kill "$HAPROXY_PID" 2>/dev/null && wait "$HAPROXY_PID" 2>/dev/null
    bench_services_cleanup
}
trap balancer_cleanup EXIT
"$BIN" seed >/dev/null

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }  # utime + stime of one process
PORTS=()
for index in 0 1 2; do
    port=$(free_port)
    taskset -c 1 "$BIN" serve --listen "127.0.0.1:$port" --log-level warning >"$WORK/serve-$index.log" 2>&1 &
    BENCH_PIDS+=($!)
    PORTS+=("$port")
done
for port in "${PORTS[@]}"; do
    for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
done
# Every product in Redis before anything is measured: the hit path is what a fleet multiplies.
"$BIN" load "http://127.0.0.1:${PORTS[0]}/product/{key}" --keys 1-1000 --requests 5000 -c 8 -q >/dev/null

start_haproxy() { # start_haproxy N: HAProxy over the first N instances, pinned to core 0
    HAPROXY_PORT=$(free_port)
    {
        printf 'global\n    maxconn 8192\n    nbthread 1\ndefaults\n    mode http\n    timeout connect 1s\n    timeout client 30s\n    timeout server 30s\n'
        printf 'frontend cacheload\n    bind 127.0.0.1:%s\n    default_backend servers\n' "$HAPROXY_PORT"
        printf 'backend servers\n    balance roundrobin\n    option httpchk GET /health\n    http-check expect status 200\n    default-server inter 1s fall 2 rise 2\n'
        for ((i = 0; i < $1; i++)); do printf '    server s%d 127.0.0.1:%s check\n' "$i" "${PORTS[$i]}"; done
    } >"$WORK/haproxy.cfg"
    taskset -c 0 haproxy -db -f "$WORK/haproxy.cfg" >"$WORK/haproxy.log" 2>&1 &
    HAPROXY_PID=$!
    for _ in $(seq 100); do curl -sf "http://127.0.0.1:$HAPROXY_PORT/product/1" >/dev/null && return; sleep 0.1; done
    echo "haproxy did not start: $(cat "$WORK/haproxy.log")" >&2; exit 1
}
stop_haproxy() { kill "$HAPROXY_PID"; wait "$HAPROXY_PID" 2>/dev/null || true; HAPROXY_PID=; }

measure() { # measure NAME URL INSTANCES: one closed-loop run, CPU of the instances and HAProxy
    local name=$1 url=$2 instances=$3 serve_before=0 serve_after=0 haproxy_before=0 haproxy_after=0 pid
    for pid in "${BENCH_PIDS[@]}"; do serve_before=$((serve_before + $(cpu_ticks "$pid"))); done
    [[ -n $HAPROXY_PID ]] && haproxy_before=$(cpu_ticks "$HAPROXY_PID")
    taskset -c 0 "$BIN" load "$url/product/{key}" --keys 1-1000 -c 64 --threads 1 -d "${DURATION}s" -q --json "$WORK/$name.json" >/dev/null
    for pid in "${BENCH_PIDS[@]}"; do serve_after=$((serve_after + $(cpu_ticks "$pid"))); done
    [[ -n $HAPROXY_PID ]] && haproxy_after=$(cpu_ticks "$HAPROXY_PID")
    echo "$name $instances $((serve_after - serve_before)) $((haproxy_after - haproxy_before))" >>"$WORK/cpu.txt"
}

measure direct "http://127.0.0.1:${PORTS[0]}" 1
for count in 1 2 3; do
    start_haproxy "$count"
    measure "haproxy-$count" "http://127.0.0.1:$HAPROXY_PORT" "$count"
    stop_haproxy
done

python3 - "$WORK" "$(getconf CLK_TCK)" "$DURATION" <<'PY'
import json, sys
work, ticks, duration = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rows = [line.split() for line in open(f"{work}/cpu.txt")]
print()
print(f"warm hits, closed loop 64 connections for {duration} s; serve instances share core 1, HAProxy and the load share core 0")
print(f"{'setup':<24}{'req/s':>9}{'per instance':>14}{'p99 ms':>9}{'serve µs/req':>14}{'HAProxy µs/req':>16}{'errors':>8}")
results = {}
for name, instances, serve, haproxy in rows:
    summary = json.load(open(f"{work}/{name}.json"))["summary"]
    requests, rate = summary["requests"], summary["rate"]["achieved"]
    errors = sum(summary["errors"].values())
    per_request = lambda cpu: int(cpu) / ticks / max(requests, 1) * 1e6
    label = "direct, 1 instance" if name == "direct" else f"HAProxy, {instances} instance{'s' if instances != '1' else ''}"
    results[name] = rate
    print(f"{label:<24}{rate:>9.0f}{rate / int(instances):>14.0f}{summary['latency_ms']['p99']:>9.2f}{per_request(serve):>14.1f}"
          f"{(per_request(haproxy) if name != 'direct' else 0):>16.1f}{errors:>8}")
print()
print(f"through HAProxy / direct, one instance : {results['haproxy-1'] / results['direct']:.3f}x  (the balancer's hop on this machine)")
print(f"3 instances / 1 instance, same core    : {results['haproxy-3'] / results['haproxy-1']:.3f}x  (one core's worth shared: ~1.0 expected)")
PY
