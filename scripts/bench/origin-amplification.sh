#!/usr/bin/env bash
# Origin amplification of a fleet: three cache servers on one Redis and one PostgreSQL (the
# demo's fleet phase, release build), a cold start (300 concurrent requests for one key over the
# three) and a mass expiry (1005 keys filled at one instant with TTL 5 s and no jitter, then
# 3000 req/s zipf for 30 s), with leases off, leases, leases + stale-while-revalidate and
# leases + early refresh. Prints origin queries in all, per expiry cycle and in the worst second,
# and the worst second's p99; the row to compare is "leases off" (what single-flight per process
# gives a fleet) against the others.
#
#   scripts/bench/origin-amplification.sh [--quick]
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
QUICK=()
while (($#)); do
    case "$1" in
        --quick) QUICK=(--quick); shift ;;
        *) echo "usage: $0 [--quick]" >&2; exit 2 ;;
    esac
done

scripts/bootstrap
WORK=$(mktemp -d /tmp/cacheload-bench-origin.XXXXXX)
export CACHELOAD_SERVICES_ENV=$WORK/services.env
cleanup() {
    scripts/services stop >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT

echo "building the release binary…" >&2
swift build -c release --product cacheload >/dev/null
BIN=$(swift build -c release --show-bin-path)/cacheload
scripts/services start >/dev/null
set -a; . "$CACHELOAD_SERVICES_ENV"; set +a

"$BIN" demo --fleet-only "${QUICK[@]}" --report-dir "$WORK/report" >"$WORK/demo.log" 2>&1 || { tail -20 "$WORK/demo.log" >&2; exit 1; }
echo
sed -n '/^origin amplification, three servers/,$p' "$WORK/demo.log"
python3 - "$WORK/report/origin-amplification.json" <<'PY'
import json, sys
rows = {row["variant"]: row for row in json.load(open(sys.argv[1]))}
off, on = rows["leases off"], rows["leases"]
print()
print(f"cold start: {off['cold_start_origin_queries']} origin queries without leases, {on['cold_start_origin_queries']} with (target 1)")
ratio = off["origin_queries_per_expiry_cycle"] / max(on["origin_queries_per_expiry_cycle"], 1e-9)
print(f"mass expiry: {ratio:.2f}x the origin queries per cycle without leases; "
      f"peak {off['peak_origin_queries_per_second']}/s without, {on['peak_origin_queries_per_second']}/s with")
PY
