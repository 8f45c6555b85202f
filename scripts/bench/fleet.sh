#!/usr/bin/env bash
# A split run against one run: three local segments (--segment I/3, one --start-at) against one
# process at the same total rate, same target (nginx serving a small file), same machine. The
# merged p99 must match the single run's (within 5%), and the segments start together.
#
#   scripts/bench/fleet.sh [--duration 20] [--rate 3000]
#
# The one-process run is made twice: how far its p99 moves between two identical runs is the
# noise floor any comparison here lives with, printed beside the merged/single ratio.
#
# Needs: scripts/bootstrap --bench (nginx-light). Builds the release binary.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
. scripts/bench/common.sh
DURATION=20
RATE=3000
bench_options "$@"
bench_start fleet
bench_binary

. "$ROOT/scripts/bench/static-nginx.sh"
start_static_nginx 1

URL="http://127.0.0.1:$PORT/"
PLAN=(--rate "$RATE" -c 300 -d "${DURATION}s" -q)
# Like with like: the one process gets as many event-loop threads as the three segments together.
"$BIN" load "$URL" "${PLAN[@]}" --threads 3 --json "$WORK/single.json" >/dev/null
"$BIN" load "$URL" "${PLAN[@]}" --threads 3 --json "$WORK/again.json" >/dev/null

START=$(python3 -c 'import datetime; t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=2); print(t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z")')
SEGMENTS=()
for index in 1 2 3; do
    "$BIN" load "$URL" "${PLAN[@]}" --threads 1 --segment "$index/3" --start-at "$START" --json "$WORK/segment-$index.json" >/dev/null &
    SEGMENTS+=($!)
done
wait "${SEGMENTS[@]}"  # not a bare wait: nginx runs in the background too
MERGE=$("$BIN" report merge "$WORK"/segment-{1,2,3}.json --json "$WORK/merged.json")

python3 - "$WORK/single.json" "$WORK/merged.json" "$WORK/again.json" "$RATE" "$DURATION" "$MERGE" <<'PY'
import json, sys
single, merged, again = (json.load(open(path))["summary"] for path in sys.argv[1:4])
rate, duration, merge_line = float(sys.argv[4]), float(sys.argv[5]), sys.argv[6].splitlines()[0]
print()
print(f"nginx static file, {rate:.0f} req/s for {duration:.0f} s over 300 connections, 2 cores shared by everything")
print(f"{'run':<26}{'requests':>10}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'p99.9 ms':>10}")
for name, s in (("one process", single), ("one process, again", again), ("3 segments, merged", merged)):
    latency = s["latency_ms"]
    print(f"{name:<26}{s['requests']:>10}{s['rate']['achieved']:>10.0f}{latency['p50']:>9.3f}{latency['p99']:>9.3f}{latency['p99_9']:>10.3f}")
print(merge_line)
ratio = merged["latency_ms"]["p99"] / single["latency_ms"]["p99"]
print(f"merged p99 / single p99 : {ratio:.3f}   (target within 5%: 0.95–1.05)")
print(f"single p99, run to run  : {again['latency_ms']['p99'] / single['latency_ms']['p99']:.3f}   (the noise floor of this machine)")
print(f"requests: merged {merged['requests']} vs single {single['requests']} (the schedule: {rate * duration:.0f})")
PY
