#!/usr/bin/env bash
# The warm hit path against its peers, in one run on one machine (load tool and targets share
# its cores): nginx serving a small JSON file, a bare Hummingbird route answering a constant
# (the ceiling of the HTTP layer), and `cacheload serve` through Redis and with --near-cache.
# Prints, as a table: requests/s under wrk at 100 and 1000 connections and their ratio (the
# cliff), each target against nginx at 1000, and the server CPU per warm hit at a fixed rate
# (driven by `cacheload load --rate`, read from the target's own process accounting so the
# driver's cost does not enter) against nginx's.
#
#   scripts/bench/hit-path.sh [--duration 10] [--rate 10000] [--baseline PATH]
#
# --baseline PATH adds a row for another cacheload binary (an earlier build) through Redis.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
DURATION=10
RATE=10000
BASELINE=
while (($#)); do
    case "$1" in
        --duration) DURATION=$2; shift 2 ;;
        --rate) RATE=$2; shift 2 ;;
        --baseline) BASELINE=$(realpath "$2"); shift 2 ;;
        *) echo "usage: $0 [--duration S] [--rate R] [--baseline PATH]" >&2; exit 2 ;;
    esac
done

scripts/bootstrap --bench
WORK=$(mktemp -d /tmp/cacheload-bench-hit.XXXXXX)
chmod 755 "$WORK"  # nginx workers run unprivileged and must read the files
export CACHELOAD_SERVICES_ENV=$WORK/services.env
PIDS=()
NGINX_PID=
cleanup() {
    for pid in "${PIDS[@]}" $NGINX_PID; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}" $NGINX_PID; do wait "$pid" 2>/dev/null || true; done
    scripts/services stop >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT

echo "building the release binaries…" >&2
swift build -c release --product cacheload >/dev/null
swift build -c release --product hummingbird-ceiling >/dev/null
BIN_DIR=$(swift build -c release --show-bin-path)
BIN=$BIN_DIR/cacheload
scripts/services start >/dev/null
set -a; . "$CACHELOAD_SERVICES_ENV"; set +a
"$BIN" seed >/dev/null

. "$ROOT/scripts/bench/static-nginx.sh"
start_static_nginx auto
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_up() { for _ in $(seq 100); do curl -sf -o /dev/null "$1" && return; sleep 0.1; done; echo "$1 did not come up" >&2; exit 1; }

CEILING_PORT=$(free_port)
"$BIN_DIR/hummingbird-ceiling" "$CEILING_PORT" >"$WORK/ceiling.log" 2>&1 &
CEILING_PID=$!; PIDS+=($CEILING_PID)
wait_up "http://127.0.0.1:$CEILING_PORT/product/1"

start_server() { # start_server NAME BINARY [serve options…] → sets PORT_<NAME>, PID_<NAME>
    local name=$1 binary=$2 port; shift 2
    port=$(free_port)
    "$binary" serve --listen "127.0.0.1:$port" --log-level warning "$@" >"$WORK/serve-$name.log" 2>&1 &
    PIDS+=($!)
    eval "PORT_$name=$port PID_$name=$!"
    wait_up "http://127.0.0.1:$port/health"
}
start_server redis "$BIN"
start_server near "$BIN" --near-cache 10000
TARGETS=(nginx ceiling redis near)
names=("nginx static" "Hummingbird constant" "cacheload via Redis" "cacheload --near-cache")
if [[ -n "$BASELINE" ]]; then
    start_server baseline "$BASELINE"
    TARGETS+=(baseline)
    names+=("baseline via Redis")
fi
"$BIN" warm --top 1005 >/dev/null

cat >"$WORK/uniform.lua" <<'LUA'
math.randomseed(42)
request = function() return wrk.format(nil, "/product/" .. math.random(1, 1005)) end
LUA
wrk_rps() { # wrk_rps PORT CONNECTIONS → req/s
    wrk -t2 -c"$2" -d"${DURATION}s" -s "$WORK/uniform.lua" "http://127.0.0.1:$1" | awk '/^Requests\/sec:/ {print $2}'
}
# Every key once through each server, so the near cache holds them all before it is measured.
for name in redis near ${BASELINE:+baseline}; do eval "port=\$PORT_$name"; wrk -t2 -c50 -d2s -s "$WORK/uniform.lua" "http://127.0.0.1:$port" >/dev/null; done

# CPU ticks (user + system) of a process and its children, from /proc.
cpu_ticks() {
    local total=0 pid
    for pid in "$@" $(for p in "$@"; do pgrep -P "$p" || true; done); do
        [[ -r /proc/$pid/stat ]] || continue
        total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat")))
    done
    echo "$total"
}
cpu_per_request() { # cpu_per_request PORT PID… → µs of the target's CPU per request at $RATE req/s
    local port=$1; shift
    local before after requests
    before=$(cpu_ticks "$@")
    "$BIN" load "http://127.0.0.1:$port/product/{key}" --rate "$RATE" -c 100 -d "${DURATION}s" -q --json "$WORK/rate.json" >/dev/null
    after=$(cpu_ticks "$@")
    requests=$(python3 -c "import json; print(json.load(open('$WORK/rate.json'))['summary']['requests'])")
    python3 -c "print(f'{($after - $before) * 1e6 / $(getconf CLK_TCK) / $requests:.1f}')"
}

declare -A RPS100 RPS1000 CPU
port_of() { case $1 in nginx) echo "$PORT" ;; ceiling) echo "$CEILING_PORT" ;; *) eval "echo \$PORT_$1" ;; esac; }
pids_of() { case $1 in nginx) echo "$NGINX_PID" ;; ceiling) echo "$CEILING_PID" ;; *) eval "echo \$PID_$1" ;; esac; }
# Two rounds over every target, interleaved, each target's better rate kept: run order and
# the machine's state move a single 10 s run by 10–20%, more than some targets differ.
for _ in 1 2; do
    for target in "${TARGETS[@]}"; do
        for connections in 100 1000; do
            rps=$(wrk_rps "$(port_of "$target")" "$connections")
            if [[ $connections == 100 ]]; then
                RPS100[$target]=$(python3 -c "print(max(float('${RPS100[$target]:-0}'), float('$rps')))")
            else
                RPS1000[$target]=$(python3 -c "print(max(float('${RPS1000[$target]:-0}'), float('$rps')))")
            fi
        done
    done
done
for target in "${TARGETS[@]}"; do
    # shellcheck disable=SC2046
    CPU[$target]=$(cpu_per_request "$(port_of "$target")" $(pids_of "$target"))
done

echo
echo "warm GET /product/{id}, uniform ids 1–1005; wrk -t2 ${DURATION}s, better of two interleaved rounds; CPU at $RATE req/s over 100 connections; $(nproc) cores shared"
printf '%-24s %12s %12s %10s %12s %14s %10s\n' target "c100 req/s" "c1000 req/s" "1000/100" "/nginx c1000" "CPU µs/hit" "/nginx CPU"
i=0
for target in "${TARGETS[@]}"; do
    python3 - "${names[$i]}" "${RPS100[$target]}" "${RPS1000[$target]}" "${RPS1000[nginx]}" "${CPU[$target]}" "${CPU[nginx]}" <<'PY'
import sys
name, r100, r1000, nginx1000, cpu, nginx_cpu = sys.argv[1], *map(float, sys.argv[2:])
print(f"{name:<24} {r100:>12.0f} {r1000:>12.0f} {r1000 / r100:>10.2f} {r1000 / nginx1000:>12.2f} {cpu:>14.1f} {cpu / nginx_cpu:>10.2f}")
PY
    i=$((i + 1))
done
echo
python3 - "${RPS1000[redis]}" "${RPS1000[near]}" "${RPS1000[nginx]}" "${RPS1000[ceiling]}" "${RPS100[redis]}" "${RPS100[near]}" "${CPU[redis]}" "${CPU[nginx]}" <<'PY'
import sys
redis, near, nginx, ceiling, redis100, near100, cpu, nginx_cpu = map(float, sys.argv[1:])
print(f"hit path / nginx at 1000 connections : {redis / nginx:.2f} through Redis (target ≥ 0.45), {near / nginx:.2f} with --near-cache "
      f"(target ≥ 0.55); ceiling {ceiling / nginx:.2f}")
print(f"server CPU per warm hit / nginx's     : {cpu / nginx_cpu:.2f} through Redis (target ≤ 2)")
print(f"1000 / 100 connections                : {redis / redis100:.2f} through Redis, {near / near100:.2f} with --near-cache (target ≥ 0.9)")
PY
