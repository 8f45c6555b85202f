# Sourced by the benchmarks: options, a work directory removed at exit (with the nginx and the
# load they started), and the binary to measure.
#   bench_options "$@"     --duration S (DURATION) and --rate R (RATE), defaults set before
#   bench_start NAME       scripts/bootstrap --bench, WORK, the cleanup trap
#   bench_binary           BIN: CACHELOAD_BIN if set, else the release build (built now)
#   bench_services         the services of scripts/services for this run; BENCH_PIDS stopped at exit

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

# bench_services: the real Redis, PostgreSQL, MariaDB and moto of scripts/services for this
# benchmark alone (its own env file), exported; stopped at exit with every PID in BENCH_PIDS.
bench_services() {
    export CACHELOAD_SERVICES_ENV=$WORK/services.env
    BENCH_PIDS=()
    trap bench_services_cleanup EXIT
    scripts/services start >/dev/null
    set -a; . "$CACHELOAD_SERVICES_ENV"; set +a
}

bench_services_cleanup() {
    for pid in "${BENCH_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
    scripts/services stop >/dev/null 2>&1 || true
    bench_cleanup
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
