#!/usr/bin/env bash
# The same cache in front of MySQL (Debian's MariaDB, TLS) and in front of PostgreSQL, same
# products, same box, one run: the cold-miss path (Redis flushed, every key read once, in order:
# each request an origin query and a fill) and the warm-hit path (the origin untouched). Misses
# show what each origin costs; hits must be equal within noise, since a hit never reaches it.
#
#   scripts/bench/mysql-origin.sh [--duration 10]
#
# Needs: scripts/bootstrap (mariadb-server, postgresql). Builds the release binary.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
. scripts/bench/common.sh
DURATION=10
bench_options "$@"
bench_start mysql-origin
bench_binary
bench_services
PRODUCTS=10000
"$BIN" seed --postgres "$DATABASE_URL" --products "$PRODUCTS" --slow-seconds 0 >/dev/null
"$BIN" seed --mysql "$MYSQL_URL" --products "$PRODUCTS" --slow-seconds 0 >/dev/null

declare -A PORTS REDIS_DB=([postgres]=1 [mysql]=2)
for engine in postgres mysql; do
    port=$(free_port)
    origin=$([[ $engine == mysql ]] && echo "$MYSQL_URL" || echo "$DATABASE_URL")
    "$BIN" serve --listen "127.0.0.1:$port" --origin "$origin" --redis "${REDIS_URL%/0}/${REDIS_DB[$engine]}" \
        --log-level warning >"$WORK/serve-$engine.log" 2>&1 &
    BENCH_PIDS+=($!)
    PORTS[$engine]=$port
    for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
done

# Interleaved, best of three per engine, so a noisy moment does not pick the winner.
for round in 1 2 3; do
    for engine in postgres mysql; do
        redis-cli -u "${REDIS_URL%/0}/${REDIS_DB[$engine]}" FLUSHDB >/dev/null
        "$BIN" load "http://127.0.0.1:${PORTS[$engine]}/product/{key}" --keys "1-$PRODUCTS" --distribution sequential \
            --requests "$PRODUCTS" -c 16 -q --json "$WORK/cold-$engine-$round.json" >/dev/null
        "$BIN" load "http://127.0.0.1:${PORTS[$engine]}/product/{key}" --keys "1-$PRODUCTS" -c 64 -d "${DURATION}s" \
            -q --json "$WORK/warm-$engine-$round.json" >/dev/null
    done
done

python3 - "$WORK" "$PRODUCTS" "$DURATION" <<'PY'
import json, sys
work, products, duration = sys.argv[1], sys.argv[2], sys.argv[3]
def best(kind, engine):
    runs = [json.load(open(f"{work}/{kind}-{engine}-{r}.json"))["summary"] for r in (1, 2, 3)]
    return max(runs, key=lambda s: s["rate"]["achieved"])
print()
print(f"{products} products; cold: Redis flushed, every key once in order, 16 connections; warm: {duration} s, 64 connections; best of 3, interleaved")
print(f"{'origin':<12}{'cold req/s':>12}{'cold p99 ms':>13}{'cold hits':>11}{'warm req/s':>12}{'warm p99 ms':>13}{'warm hit %':>12}")
rows = {}
for engine, label in (("postgres", "PostgreSQL"), ("mysql", "MariaDB")):
    cold, warm = best("cold", engine), best("warm", engine)
    rows[engine] = (cold, warm)
    print(f"{label:<12}{cold['rate']['achieved']:>12.0f}{cold['latency_ms']['p99']:>13.2f}{cold['cache']['hits']:>11}"
          f"{warm['rate']['achieved']:>12.0f}{warm['latency_ms']['p99']:>13.2f}{100 * (warm['hit_ratio'] or 0):>12.1f}")
(pc, pw), (mc, mw) = rows["postgres"], rows["mysql"]
print()
print(f"cold misses, MariaDB / PostgreSQL: {mc['rate']['achieved'] / pc['rate']['achieved']:.3f}x rate, {mc['latency_ms']['p99'] / pc['latency_ms']['p99']:.3f}x p99")
print(f"warm hits,   MariaDB / PostgreSQL: {mw['rate']['achieved'] / pw['rate']['achieved']:.3f}x rate (a hit never reaches the origin: ~1.0 expected)")
PY
