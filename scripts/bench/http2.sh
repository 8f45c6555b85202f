#!/usr/bin/env bash
# HTTP/2 benchmarks, one run, peers side by side:
#  1. cacheload load --http 2 --streams 10 against h2load -m 10 (nghttp2's load tool) on the same
#     nginx over TLS, same connections, same duration, one client thread each, interleaved, the
#     better of two runs each: the rate ratio (target ≥ 0.9×) and each tool's CPU per request;
#  2. h1 vs h2 at 1000 requests in flight on cacheload serve --tls-cert (warm cache): 1000
#     HTTP/1.1 connections against 10 HTTP/2 connections × 100 streams — throughput and p99.
#
#   scripts/bench/http2.sh [--duration 10]
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
. scripts/bench/common.sh
DURATION=10
bench_options "$@"
bench_start http2
bench_binary
command -v h2load >/dev/null || { echo "needs h2load (apt-get install nghttp2-client)" >&2; exit 1; }

# nginx: one small JSON answer, over TLS with h2 and http/1.1 by ALPN (TLS_PORT, TLS_CA).
. "$ROOT/scripts/bench/static-nginx.sh"
# No GOAWAY during a run: h2load does not replace a connection the server ends.
start_static_nginx 1 "" "keepalive_requests 100000000;"

# measure COMMAND... → "req/s client-CPU-µs-per-request"
measure() {
    local out rps
    out=$( { /usr/bin/time -f 'CPU %U %S %e' "$@"; } 2>&1 )
    rps=$(awk '/^Requests\/sec:/ {print $2} /^finished in/ {gsub(",", "", $4); print $4}' <<<"$out")
    awk -v rps="$rps" '/^CPU/ {printf "%s %.2f\n", rps, ($2 + $3) * 1e6 / (rps * $4)}' <<<"$out"
}
better() { awk -v a="$1" -v b="$2" 'BEGIN { split(a, x, " "); split(b, y, " "); print (x[1] >= y[1] ? a : b) }'; }

echo
echo "1. nginx over TLS, HTTP/2: 4 connections × 10 streams, ${DURATION}s per run, one client thread each"
h2_runs=() cl_runs=()
for _ in 1 2; do
    h2_runs+=("$(measure h2load -c 4 -m 10 -t 1 -D "$DURATION" "https://127.0.0.1:$TLS_PORT/product/1")")
    cl_runs+=("$(measure "$BIN" load "https://127.0.0.1:$TLS_PORT/product/{key}" --cacert "$TLS_CA" --http 2 \
        -c 4 --streams 10 --threads 1 -d "${DURATION}s" -q)")
done
read -r h2_rps h2_cpu <<<"$(better "${h2_runs[0]}" "${h2_runs[1]}")"
read -r cl_rps cl_cpu <<<"$(better "${cl_runs[0]}" "${cl_runs[1]}")"
printf '   %-22s %12s %14s\n' tool req/s "CPU µs/req" "h2load -m 10" "$h2_rps" "$h2_cpu" "cacheload --streams 10" "$cl_rps" "$cl_cpu"
python3 -c "
rate = $cl_rps / $h2_rps
print(f'   cacheload / h2load: {rate:.2f}× the rate (target ≥ 0.9: ' + ('met' if rate >= 0.9 else 'not met') + f'), {$cl_cpu / $h2_cpu:.2f}× the CPU per request')"
kill "$NGINX_PID"; wait "$NGINX_PID" 2>/dev/null || true; NGINX_PID=

echo
echo "2. cacheload serve --tls-cert, warm cache: 1000 requests in flight over HTTP/1.1 and over HTTP/2, ${DURATION}s each"
bench_services
"$BIN" seed --postgres "$DATABASE_URL" --products 1005 --slow-seconds 0 >/dev/null
SERVE_PORT=$(free_port)
"$BIN" serve --listen "127.0.0.1:$SERVE_PORT" --tls-cert "$TLS_CA" --tls-key "$WORK/tls.key" --log-level warning >"$WORK/serve.log" 2>&1 &
BENCH_PIDS+=($!)
for _ in $(seq 100); do curl -sfk "https://127.0.0.1:$SERVE_PORT/health" >/dev/null && break; sleep 0.1; done
URL="https://127.0.0.1:$SERVE_PORT/product/{key}"
"$BIN" load "$URL" --cacert "$TLS_CA" --keys 1-1005 --distribution sequential --requests 1005 -c 10 -q >/dev/null
for round in 1 2; do
    "$BIN" load "$URL" --cacert "$TLS_CA" --http 1.1 -c 1000 -d "${DURATION}s" -q --json "$WORK/h1-$round.json" >/dev/null || true
    "$BIN" load "$URL" --cacert "$TLS_CA" --http 2 -c 10 --streams 100 -d "${DURATION}s" -q --json "$WORK/h2-$round.json" >/dev/null || true
done
python3 - "$WORK" <<'PY'
import json, sys
work = sys.argv[1]
def best(kind):
    runs = [json.load(open(f"{work}/{kind}-{r}.json"))["summary"] for r in (1, 2)]
    return max(runs, key=lambda s: s["rate"]["achieved"])
h1, h2 = best("h1"), best("h2")
print(f"   {'':24} {'req/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
for name, s in (("HTTP/1.1, 1000 conns", h1), ("HTTP/2, 10 × 100 streams", h2)):
    errors = sum(s["errors"].values())
    print(f"   {name:24} {s['rate']['achieved']:>10.0f} {s['latency_ms']['p50']:>8.2f} {s['latency_ms']['p99']:>8.2f} {errors:>7}")
print(f"   h2 / h1: {h2['rate']['achieved'] / h1['rate']['achieved']:.2f}× the rate, {h2['latency_ms']['p99'] / max(h1['latency_ms']['p99'], 1e-9):.2f}× the p99")
PY
