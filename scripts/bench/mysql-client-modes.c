/*
 * libmariadb's two ways of waiting, on the cache's miss path (a prepared
 * SELECT of one product by id, its row fetched), same connections, same server:
 *
 *   blocking     one thread per connection, each blocked in mysql_stmt_execute
 *                (what MySQLClient does: BlockingConnectionPool on NIOThreadPool)
 *   nonblocking  every connection on one thread, driven by epoll through
 *                mysql_stmt_execute_start/_cont, store_result and fetch likewise
 *                (what an event-loop driver would do)
 *
 * Prints one line: mode, connections, queries, rate, p50/p99 ms, client CPU µs
 * per query, socket wake-ups per query (nonblocking). Built and run by scripts/bench/mysql-client-modes.sh.
 *
 *   mysql-client-modes MODE CONNECTIONS SECONDS PRODUCTS HOST PORT USER PASSWORD DB CA
 *
 * CA "" connects without TLS.
 */
#include <mysql.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <time.h>

#define QUERY "SELECT id, name, price, description, views FROM products WHERE id = ?"
#define MAX_SAMPLES 4000000

static const char *host, *user, *password, *db, *ca;
static unsigned port;
static int products;
static double deadline;
static double *samples;
static long sample_count;
/* Readiness events the nonblocking loop acted on: ~1 per query when libmariadb really waits
 * for the socket, 0 when its "non-blocking" calls block inside (TLS in libmariadb 3.3). */
static long wakeups;
static pthread_mutex_t sample_lock = PTHREAD_MUTEX_INITIALIZER;

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static void die(const char *what, const char *why) {
    fprintf(stderr, "mysql-client-modes: %s: %s\n", what, why);
    exit(1);
}

static void record(double seconds) {
    pthread_mutex_lock(&sample_lock);
    if (sample_count < MAX_SAMPLES) samples[sample_count++] = seconds;
    pthread_mutex_unlock(&sample_lock);
}

/* One connection with its statement and bound id, set up with blocking calls
 * (the comparison is of the queries, not of connecting). */
typedef struct {
    MYSQL *mysql;
    MYSQL_STMT *stmt;
    MYSQL_BIND param;
    int id;
    int step;        /* nonblocking: 0 execute, 1 store_result, 2 fetch */
    double started;
    unsigned seed;
} Connection;

static void open_connection(Connection *c, int nonblocking, unsigned seed) {
    c->mysql = mysql_init(NULL);
    if (nonblocking) mysql_options(c->mysql, MYSQL_OPT_NONBLOCK, 0);
    my_bool yes = 1, no = 0;
    if (*ca) {
        mysql_options(c->mysql, MYSQL_OPT_SSL_CA, ca);
        mysql_options(c->mysql, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &yes);
    } else {  /* "" : plain TCP */
        mysql_options(c->mysql, MYSQL_OPT_SSL_ENFORCE, &no);
    }
    MYSQL *connected = NULL;
    if (nonblocking) {
        /* Connected by the non-blocking calls: only then does libmariadb drive the socket
         * itself without blocking (a blocking connect leaves every later call blocking). */
        int status = mysql_real_connect_start(&connected, c->mysql, host, user, password, db, port, NULL, 0);
        while (status) {
            struct pollfd fd = { .fd = mysql_get_socket(c->mysql), .events = (short)((status & MYSQL_WAIT_READ ? POLLIN : 0) | (status & MYSQL_WAIT_WRITE ? POLLOUT : 0)) };
            int ready = poll(&fd, 1, 10000);
            status = mysql_real_connect_cont(&connected, c->mysql,
                ready <= 0 ? MYSQL_WAIT_TIMEOUT : (fd.revents & (POLLIN | POLLHUP | POLLERR) ? MYSQL_WAIT_READ : 0) | (fd.revents & POLLOUT ? MYSQL_WAIT_WRITE : 0));
        }
    } else {
        connected = mysql_real_connect(c->mysql, host, user, password, db, port, NULL, 0);
    }
    if (!connected) die("connect", mysql_error(c->mysql));
    c->stmt = mysql_stmt_init(c->mysql);
    if (mysql_stmt_prepare(c->stmt, QUERY, strlen(QUERY))) die("prepare", mysql_stmt_error(c->stmt));
    memset(&c->param, 0, sizeof c->param);
    c->param.buffer_type = MYSQL_TYPE_LONG;
    c->param.buffer = &c->id;
    mysql_stmt_bind_param(c->stmt, &c->param);
    c->seed = seed;
}

static void next_id(Connection *c) { c->id = 1 + rand_r(&c->seed) % products; }

/* --- blocking: a thread per connection ------------------------------------------------- */

static void *blocking_worker(void *arg) {
    Connection *c = arg;
    while (now() < deadline) {
        next_id(c);
        double start = now();
        if (mysql_stmt_execute(c->stmt) || mysql_stmt_store_result(c->stmt)) die("execute", mysql_stmt_error(c->stmt));
        while (mysql_stmt_fetch(c->stmt) == 0) {}
        mysql_stmt_free_result(c->stmt);
        record(now() - start);
    }
    return NULL;
}

/* --- nonblocking: every connection on one epoll loop ----------------------------------- */

static int events_for(int status) {
    return (status & MYSQL_WAIT_READ ? EPOLLIN : 0) | (status & MYSQL_WAIT_WRITE ? EPOLLOUT : 0);
}

static int status_for(unsigned events) {
    return (events & (EPOLLIN | EPOLLHUP | EPOLLERR) ? MYSQL_WAIT_READ : 0) | (events & EPOLLOUT ? MYSQL_WAIT_WRITE : 0);
}

/* Advances one connection's query as far as it goes without waiting; returns the
 * wait status (0 when a query finished and the next one must be started). */
static int advance(Connection *c, int status, int starting) {
    int result = 0;
    for (;;) {
        if (c->step == 0) {
            status = starting ? mysql_stmt_execute_start(&result, c->stmt) : mysql_stmt_execute_cont(&result, c->stmt, status);
            if (status) return status;
            if (result) die("execute", mysql_stmt_error(c->stmt));
            c->step = 1; starting = 1;
        } else if (c->step == 1) {
            status = starting ? mysql_stmt_store_result_start(&result, c->stmt) : mysql_stmt_store_result_cont(&result, c->stmt, status);
            if (status) return status;
            if (result) die("store_result", mysql_stmt_error(c->stmt));
            c->step = 2; starting = 1;
        } else {
            /* Rows are stored: fetching reads memory and does not wait. */
            while (mysql_stmt_fetch(c->stmt) == 0) {}
            mysql_stmt_free_result(c->stmt);
            c->step = 0;
            return 0;
        }
    }
}

/* Starts queries on `c` until one has to wait (then the loop watches its socket) or the
 * run is over; returns whether the connection is still active. A query may finish without
 * waiting (its answer already read into the TLS buffer), so this loops. */
static int start_query(int epoll, Connection *c, int registered) {
    while (now() < deadline) {
        next_id(c);
        c->started = now();
        c->step = 0;
        int status = advance(c, 0, 1);
        if (status) {
            struct epoll_event event = { .events = events_for(status), .data.ptr = c };
            epoll_ctl(epoll, registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, mysql_get_socket(c->mysql), &event);
            return 1;
        }
        record(now() - c->started);
    }
    if (registered) epoll_ctl(epoll, EPOLL_CTL_DEL, mysql_get_socket(c->mysql), NULL);
    return 0;
}

static void run_nonblocking(Connection *connections, int count) {
    int epoll = epoll_create1(0), active = 0;
    for (int i = 0; i < count; i++) active += start_query(epoll, &connections[i], 0);
    struct epoll_event ready[256];
    while (active > 0) {
        int n = epoll_wait(epoll, ready, 256, 1000);
        for (int i = 0; i < n; i++) {
            Connection *c = ready[i].data.ptr;
            wakeups++;
            int status = advance(c, status_for(ready[i].events), 0);
            if (status) {
                struct epoll_event event = { .events = events_for(status), .data.ptr = c };
                epoll_ctl(epoll, EPOLL_CTL_MOD, mysql_get_socket(c->mysql), &event);
                continue;
            }
            record(now() - c->started);
            if (!start_query(epoll, c, 1)) active--;
        }
    }
}

static int compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double cpu_seconds(void) {
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6 + usage.ru_stime.tv_sec + usage.ru_stime.tv_usec / 1e6;
}

int main(int argc, char **argv) {
    if (argc != 11) die("usage", "MODE CONNECTIONS SECONDS PRODUCTS HOST PORT USER PASSWORD DB CA");
    const char *mode = argv[1];
    int count = atoi(argv[2]), nonblocking = strcmp(mode, "nonblocking") == 0;
    double seconds = atof(argv[3]);
    products = atoi(argv[4]);
    host = argv[5]; port = (unsigned)atoi(argv[6]); user = argv[7]; password = argv[8]; db = argv[9]; ca = argv[10];
    if (count < 1 || seconds <= 0 || products < 1) die("usage", "connections, seconds and products must be positive");
    samples = malloc(sizeof(double) * MAX_SAMPLES);
    mysql_library_init(0, NULL, NULL);
    Connection *connections = calloc((size_t)count, sizeof(Connection));
    for (int i = 0; i < count; i++) open_connection(&connections[i], nonblocking, 7919u * (unsigned)(i + 1));

    double cpu = cpu_seconds(), started = now();
    deadline = started + seconds;
    if (nonblocking) {
        run_nonblocking(connections, count);
    } else {
        pthread_t *threads = calloc((size_t)count, sizeof(pthread_t));
        for (int i = 0; i < count; i++) pthread_create(&threads[i], NULL, blocking_worker, &connections[i]);
        for (int i = 0; i < count; i++) pthread_join(threads[i], NULL);
    }
    double elapsed = now() - started, used = cpu_seconds() - cpu;

    qsort(samples, (size_t)sample_count, sizeof(double), compare);
    double p50 = sample_count ? samples[sample_count / 2] : 0, p99 = sample_count ? samples[(long)(sample_count * 0.99)] : 0;
    printf("%s %d %ld %.0f %.3f %.3f %.1f %.2f\n", mode, count, sample_count, sample_count / elapsed, p50 * 1e3, p99 * 1e3,
           sample_count ? used / sample_count * 1e6 : 0, sample_count ? (double)wakeups / sample_count : 0);
    for (int i = 0; i < count; i++) { mysql_stmt_close(connections[i].stmt); mysql_close(connections[i].mysql); }
    mysql_library_end();
    return 0;
}
