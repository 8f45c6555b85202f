#!/usr/bin/env bash
# libmariadb's two ways of waiting on the miss path — a thread blocked per connection (what
# MySQLClient does) and every connection driven by one epoll loop through the non-blocking
# …_start/…_cont calls — against the same MariaDB (TLS verified), same products, same
# connections, one run, interleaved, best of three. What decides between them: rate, p99 and
# the client's CPU per query (docs/ARCHITECTURE.md, "Why the MySQL client blocks on threads").
#
#   scripts/bench/mysql-client-modes.sh [--duration 5]
#
# Over TLS (the services' MariaDB, require_secure_transport, as RDS is deployed) and over plain
# TCP (a MariaDB of its own): libmariadb's non-blocking calls only wait on the socket without TLS.
#
# Needs: scripts/bootstrap (mariadb-server, libmariadb-dev, a C compiler).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
. scripts/bench/common.sh
DURATION=5
bench_options "$@"
bench_start mysql-client-modes
bench_binary
bench_services
PRODUCTS=10000
"$BIN" seed --mysql "$MYSQL_URL" --products "$PRODUCTS" --slow-seconds 0 >/dev/null
# shellcheck disable=SC2046
cc -O2 -Wall $(mariadb_config --cflags) scripts/bench/mysql-client-modes.c $(mariadb_config --libs) -lpthread \
    -o "$WORK/mysql-client-modes"
read -r host port user password database ca < <(python3 - "$MYSQL_URL" <<'PY'
import sys, urllib.parse as u
url = u.urlparse(sys.argv[1])
ca = u.parse_qs(url.query)["ssl-ca"][0]
print(url.hostname, url.port, u.unquote(url.username), u.unquote(url.password), url.path[1:], ca)
PY
)

# The same server software without TLS, for the comparison TLS hides: a MariaDB of this run's own.
plain=$WORK/plain
mkdir -p "$plain/data" && chown -R mysql "$plain" && chmod 755 "$WORK" "$plain"
mariadb-install-db --no-defaults --datadir="$plain/data" --user=mysql --auth-root-authentication-method=socket --skip-test-db >/dev/null
plain_port=$(free_port)
mariadbd --no-defaults --datadir="$plain/data" --user=mysql --port="$plain_port" --bind-address=127.0.0.1 --socket="$plain/s.sock" \
    --skip-log-bin --skip-name-resolve --max-connections=300 >"$plain/log" 2>&1 &
BENCH_PIDS+=($!)
for _ in $(seq 100); do mariadb --no-defaults -S "$plain/s.sock" -u root -e "SELECT 1" >/dev/null 2>&1 && break; sleep 0.1; done
mariadb --no-defaults -S "$plain/s.sock" -u root -e "CREATE DATABASE shop; CREATE USER 'app'@'%' IDENTIFIED BY 'pw'; GRANT ALL ON shop.* TO 'app'@'%';"
"$BIN" seed --mysql "mysql://app:pw@127.0.0.1:$plain_port/shop?ssl-mode=disabled" --products "$PRODUCTS" --slow-seconds 0 >/dev/null

for round in 1 2 3; do
    for transport in tls plain; do
        for connections in 16 64; do
            for mode in blocking nonblocking; do
                if [[ $transport == tls ]]; then
                    target=("$host" "$port" "$user" "$password" "$database" "$ca")
                else
                    target=(127.0.0.1 "$plain_port" app pw shop "")
                fi
                echo "$transport $("$WORK/mysql-client-modes" "$mode" "$connections" "$DURATION" "$PRODUCTS" "${target[@]}")" >>"$WORK/results"
            done
        done
    done
done

python3 - "$WORK/results" "$DURATION" <<'PY'
import sys
best = {}
for line in open(sys.argv[1]):
    transport, mode, connections, queries, rate, p50, p99, cpu, wakeups = line.split()
    key = (transport, int(connections), mode)
    row = (float(rate), float(p50), float(p99), float(cpu), float(wakeups))
    if key not in best or row[0] > best[key][0]:
        best[key] = row
print()
print(f"MariaDB, prepared SELECT of one product by id, {sys.argv[2]} s per run, best of 3, interleaved")
print(f"{'transport':<11}{'mode':<13}{'conns':>6}{'queries/s':>11}{'p50 ms':>9}{'p99 ms':>9}{'CPU µs/query':>14}{'wake-ups/query':>16}")
for (transport, connections, mode), (rate, p50, p99, cpu, wakeups) in sorted(best.items()):
    print(f"{transport:<11}{mode:<13}{connections:>6}{rate:>11.0f}{p50:>9.3f}{p99:>9.3f}{cpu:>14.1f}{wakeups:>16.2f}")
print()
for transport in ("tls", "plain"):
    for connections in (16, 64):
        b, n = best[(transport, connections, "blocking")], best[(transport, connections, "nonblocking")]
        print(f"{transport:<6}{connections:>3} connections, non-blocking / blocking: {n[0] / b[0]:.3f}x rate, {n[2] / b[2]:.3f}x p99, "
              f"{n[3] / b[3]:.3f}x client CPU per query; {n[4]:.2f} socket wake-ups per query")
PY
