# Sourced by the benchmarks: options, a work directory removed at exit (with the nginx and the
# load they started), and the binary to measure.
#   bench_options "$@"     --duration S (DURATION) and --rate R (RATE), defaults set before
#   bench_start NAME       scripts/bootstrap --bench, WORK, the cleanup trap
#   bench_binary           BIN: CACHELOAD_BIN if set, else the release build (built now)

bench_options() {
    while (($#)); do
        case "$1" in
            --duration) DURATION=$2; shift 2 ;;
            --rate) RATE=$2; shift 2 ;;
            *) echo "usage: $0 [--duration S]${RATE:+ [--rate R]}" >&2; exit 2 ;;
        esac
    done
}

bench_start() {
    scripts/bootstrap --bench
    WORK=$(mktemp -d "/tmp/cacheload-bench-$1.XXXXXX")
    chmod 755 "$WORK"  # nginx workers run unprivileged and must read the files
    NGINX_PID=
    LOAD_PID=
    trap bench_cleanup EXIT
}

bench_cleanup() {
    [[ -n "$LOAD_PID" ]] && kill "$LOAD_PID" 2>/dev/null && wait "$LOAD_PID" 2>/dev/null
    [[ -n "$NGINX_PID" ]] && kill "$NGINX_PID" 2>/dev/null && wait "$NGINX_PID" 2>/dev/null
    rm -rf "$WORK"
}

bench_binary() {
    if [[ -n "${CACHELOAD_BIN:-}" ]]; then
        BIN=$CACHELOAD_BIN
        return
    fi
    echo "building the release binary…" >&2
    swift build -c release --product cacheload >/dev/null
    BIN=$(swift build -c release --show-bin-path)/cacheload
}
