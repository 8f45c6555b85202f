#!/usr/bin/env bash
# A long constant-rate run's memory and CPU over time: `cacheload load -d 10m --rate 2000`
# against nginx serving a small file, sampling the generator's RSS and CPU time every 10 s.
# Prints the RSS slope after the first minute (KiB per minute; flat is what a bounded recorder
# gives) and the CPU per second in the second minute against the last one (a progress line and
# the recorder's housekeeping must cost the same at minute 10 as at minute 1).
#
#   scripts/bench/long-run.sh [--duration 600] [--rate 2000]   (CACHELOAD_BIN: a built binary to use)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
. scripts/bench/common.sh
DURATION=600
RATE=2000
bench_options "$@"
((DURATION >= 120)) || { echo "--duration must be at least 120 s: the slope is measured after the first minute" >&2; exit 2; }
bench_start long
bench_binary

. "$ROOT/scripts/bench/static-nginx.sh"
start_static_nginx 1

"$BIN" load "http://127.0.0.1:$PORT/product/{key}" --rate "$RATE" -c 50 -d "${DURATION}s" --quiet \
    --json "$WORK/run.json" >"$WORK/load.out" 2>&1 &
LOAD_PID=$!
TICKS=$(getconf CLK_TCK)
: >"$WORK/samples"
start=$(date +%s)
while kill -0 "$LOAD_PID" 2>/dev/null; do
    # elapsed-s RSS-KiB CPU-ticks (user+system)
    if rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$LOAD_PID/status" 2>/dev/null) && \
       cpu=$(awk '{print $14 + $15}' "/proc/$LOAD_PID/stat" 2>/dev/null) && [[ -n "$rss" ]]; then
        echo "$(($(date +%s) - start)) $rss $cpu" >>"$WORK/samples"
    fi
    sleep 10
done
wait "$LOAD_PID" && status=0 || status=$?
LOAD_PID=
tail -n 4 "$WORK/load.out"
python3 - "$WORK/samples" "$TICKS" "$DURATION" <<'PY'
import sys
rows = [tuple(map(int, line.split())) for line in open(sys.argv[1]) if line.strip()]
ticks, duration = int(sys.argv[2]), int(sys.argv[3])
after = [r for r in rows if 60 <= r[0] <= duration]
if len(after) < 3:
    sys.exit("too few samples after the first minute")
n = len(after)
mx = sum(r[0] for r in after) / n
my = sum(r[1] for r in after) / n
slope = sum((r[0] - mx) * (r[1] - my) for r in after) / sum((r[0] - mx) ** 2 for r in after)
def cpu_per_second(window):
    w = [r for r in rows if window[0] <= r[0] <= window[1]]
    return (w[-1][2] - w[0][2]) / ticks / max(1, w[-1][0] - w[0][0]) if len(w) >= 2 else float("nan")
first, last = cpu_per_second((60, 120)), cpu_per_second((duration - 70, duration - 5))
print(f"RSS at 1 min {after[0][1] / 1024:.1f} MiB, at the end {after[-1][1] / 1024:.1f} MiB; "
      f"slope after the first minute {slope * 60:.1f} KiB/min over {n} samples")
print(f"CPU per second of run: minute 2 {first * 100:.1f}%, last minute {last * 100:.1f}% (ratio {last / first:.2f})")
PY
exit "$status"
