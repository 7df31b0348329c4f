/* This project's C ABI (libmcp_client.so) under the benches/compare driver contract
 * (benches/compare/README.md): one mcp_client with a static bearer token, K C threads sharing
 * it, each calling mcp_call_tool until N calls have been started.
 *
 *   driver-c --url URL --token TOKEN --calls N --inflight K --warmup W
 *   driver-c --auth cold|warm --url URL --store DIR
 *   driver-c --auth storm --url URL --store DIR --calls N --expire-url E
 *   driver-c --hold N --url URL --token TOKEN
 *
 * --auth: the OAuth engine (MCP_AUTH_MODE_OAUTH) with the headless presenter and the file
 * store in DIR (MCP_STORE_KIND_FILE); storm: N threads, released together, one call each.
 * --hold: N clients, each connected and called once, VmRSS read while all are open. */
#define _POSIX_C_SOURCE 200809L
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "mcp_client.h"

static const char *ARGS = "{\"text\":\"hello\"}";

static mcp_client *client;
static long n_calls;
static atomic_long next_call;
static atomic_long n_ok;
static atomic_int reported;
static unsigned long *lat_us;
static pthread_barrier_t go_barrier;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long cpu_us(long *maxrss) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    if (maxrss) *maxrss = ru.ru_maxrss;
    return (long)ru.ru_utime.tv_sec * 1000000L + ru.ru_utime.tv_usec +
           (long)ru.ru_stime.tv_sec * 1000000L + ru.ru_stime.tv_usec;
}

static void report(const char *what, mcp_error *err) {
    if (atomic_exchange(&reported, 1) == 0)
        fprintf(stderr, "%s: %s\n", what, err ? mcp_error_message(err) : "?");
}

/* One call on `c`; 1 when its result's first content item is the text "hello". */
static int call_on(mcp_client *c) {
    char *out = NULL;
    mcp_error *err = NULL;
    if (mcp_call_tool(c, "echo", ARGS, NULL, &out, &err) != MCP_RESULT_OK) {
        report("call failed", err);
        mcp_error_free(err);
        return 0;
    }
    /* The result JSON is the server's (`{"content":[{"type":"text","text":"hello"}]}`, keys in
     * any order): the first content item holds both members, and no error flag. */
    const char *c0 = out ? strstr(out, "\"content\"") : NULL;
    const char *end = c0 ? strchr(c0, '}') : NULL;
    int ok = 0;
    if (end) {
        const char *t = strstr(c0, "\"text\":\"hello\"");
        const char *ty = strstr(c0, "\"type\":\"text\"");
        ok = t && ty && t < end && ty < end && strstr(out, "\"isError\":true") == NULL;
    }
    if (!ok && atomic_exchange(&reported, 1) == 0) fprintf(stderr, "unexpected result: %s\n", out ? out : "(null)");
    mcp_string_free(out);
    return ok;
}

static int one_call(void) { return call_on(client); }

static void *worker(void *arg) {
    (void)arg;
    for (;;) {
        long i = atomic_fetch_add(&next_call, 1);
        if (i >= n_calls) return NULL;
        double t = now();
        int ok = one_call();
        lat_us[i] = (unsigned long)((now() - t) * 1e6);
        if (ok) atomic_fetch_add(&n_ok, 1);
    }
}

/* Storm: call number (long)arg, once, after every thread is ready. */
static void *storm_worker(void *arg) {
    long i = (long)(intptr_t)arg;
    pthread_barrier_wait(&go_barrier);
    double t = now();
    int ok = one_call();
    lat_us[i] = (unsigned long)((now() - t) * 1e6);
    if (ok) atomic_fetch_add(&n_ok, 1);
    return NULL;
}

static int cmp(const void *a, const void *b) {
    unsigned long x = *(const unsigned long *)a, y = *(const unsigned long *)b;
    return x < y ? -1 : x > y;
}

static unsigned long pct(double q) {
    if (n_calls == 0) return 0;
    long r = (long)(q * (double)n_calls + 0.999999999);
    if (r < 1) r = 1;
    if (r > n_calls) r = n_calls;
    return lat_us[r - 1];
}

static void usage(void) {
    fprintf(stderr,
            "usage: driver-c --url URL --token TOKEN --calls N --inflight K --warmup W\n"
            "       driver-c --auth cold|warm --url URL --store DIR\n"
            "       driver-c --auth storm --url URL --store DIR --calls N --expire-url E\n"
            "       driver-c --hold N --url URL --token TOKEN\n");
    exit(2);
}

static void print_result(long calls, long ok, double wall, long cpu) {
    qsort(lat_us, (size_t)calls, sizeof *lat_us, cmp);
    long maxrss = 0;
    cpu_us(&maxrss);
    printf("RESULT {\"client\":\"mcp-client (C)\",\"version\":\"%s\",\"calls\":%ld,\"ok\":%ld,"
           "\"wall_us\":%.0f,\"p50_us\":%lu,\"p99_us\":%lu,\"cpu_us\":%ld,\"peak_rss_kb\":%ld}\n",
           mcp_version(), calls, ok, wall * 1e6, pct(0.50), pct(0.99), cpu, maxrss);
    fflush(stdout);
}

/* A plain `POST` without a body to an http:// URL over a raw socket; 0 on a 2xx status. */
static int http_post(const char *url) {
    if (strncmp(url, "http://", 7) != 0) {
        fprintf(stderr, "expire url: only http:// (%s)\n", url);
        return -1;
    }
    const char *hp = url + 7;
    const char *slash = strchr(hp, '/');
    const char *path = slash ? slash : "/";
    size_t hplen = slash ? (size_t)(slash - hp) : strlen(hp);
    char hostport[256], host[256], port[16] = "80";
    if (hplen == 0 || hplen >= sizeof hostport) return -1;
    memcpy(hostport, hp, hplen);
    hostport[hplen] = 0;
    strcpy(host, hostport);
    char *colon = strrchr(host, ':');
    if (colon && !strchr(host, ']')) { /* host:port (no IPv6 literals here) */
        *colon = 0;
        snprintf(port, sizeof port, "%s", colon + 1);
    }
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, port, &hints, &res) != 0 || !res) {
        fprintf(stderr, "expire url: cannot resolve %s\n", host);
        return -1;
    }
    int fd = -1;
    for (struct addrinfo *a = res; a; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
        if (fd < 0) continue;
        if (connect(fd, a->ai_addr, a->ai_addrlen) == 0) break;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        fprintf(stderr, "expire url: cannot connect to %s\n", hostport);
        return -1;
    }
    char req[1024];
    int n = snprintf(req, sizeof req,
                     "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                     path, hostport);
    if (n <= 0 || (size_t)n >= sizeof req) {
        close(fd);
        return -1;
    }
    for (int off = 0; off < n;) {
        ssize_t w = write(fd, req + off, (size_t)(n - off));
        if (w <= 0) {
            close(fd);
            return -1;
        }
        off += (int)w;
    }
    char buf[512];
    size_t got = 0;
    while (got < sizeof buf - 1) {
        ssize_t r = read(fd, buf + got, sizeof buf - 1 - got);
        if (r <= 0) break;
        got += (size_t)r;
        buf[got] = 0;
        if (strstr(buf, "\r\n")) break;
    }
    buf[got] = 0;
    close(fd);
    int status = 0;
    if (sscanf(buf, "HTTP/%*s %d", &status) != 1 || status < 200 || status > 299) {
        fprintf(stderr, "expire url: unexpected answer: %.80s\n", buf);
        return -1;
    }
    return 0;
}

/* Options of the OAuth engine: headless sign-in, credentials in a file store in `dir`. */
static mcp_options *oauth_options(const char *url, const char *dir, mcp_error **err) {
    mcp_options *o = mcp_options_new();
    if (!o) return NULL;
    if (mcp_options_set_url(o, url, err) != MCP_RESULT_OK ||
        mcp_options_set_auth(o, MCP_AUTH_MODE_OAUTH, err) != MCP_RESULT_OK ||
        mcp_options_set_store(o, MCP_STORE_KIND_FILE, dir, err) != MCP_RESULT_OK ||
        mcp_options_set_headless_presenter(o, true, err) != MCP_RESULT_OK) {
        mcp_options_free(o);
        return NULL;
    }
    return o;
}

static int run_auth(const char *mode, const char *url, const char *dir, const char *expire_url) {
    bool storm = !strcmp(mode, "storm");
    if (!storm && strcmp(mode, "cold") && strcmp(mode, "warm")) usage();
    if (!dir || (storm && (!expire_url || n_calls < 1))) usage();
    if (!storm) n_calls = 1;
    lat_us = calloc((size_t)n_calls + 1, sizeof *lat_us);
    if (!lat_us) return 1;
    mcp_error *err = NULL;

    if (!storm) {
        /* Timed: options, client, connect (sign-in or stored credential), the first call. */
        long cpu0 = cpu_us(NULL);
        double t0 = now();
        mcp_options *o = oauth_options(url, dir, &err);
        if (!o || mcp_client_new(o, NULL, &client, &err) != MCP_RESULT_OK) {
            report("connect", err);
            mcp_error_free(err);
            mcp_options_free(o);
            lat_us[0] = (unsigned long)((now() - t0) * 1e6);
            print_result(1, 0, now() - t0, cpu_us(NULL) - cpu0);
            return 1;
        }
        long ok = one_call();
        double wall = now() - t0;
        long cpu = cpu_us(NULL) - cpu0;
        mcp_options_free(o);
        lat_us[0] = (unsigned long)(wall * 1e6);
        mcp_close(client, NULL, NULL);
        mcp_client_free(client);
        print_result(1, ok, wall, cpu);
        return ok == 1 ? 0 : 1;
    }

    /* Storm: untimed warm start, one checked call, the tokens expired at the server. */
    mcp_options *o = oauth_options(url, dir, &err);
    if (!o || mcp_client_new(o, NULL, &client, &err) != MCP_RESULT_OK) {
        report("connect", err);
        mcp_error_free(err);
        print_result(n_calls, 0, 0, 0);
        return 1;
    }
    mcp_options_free(o);
    if (!one_call()) {
        fprintf(stderr, "the first (untimed) call failed\n");
        print_result(n_calls, 0, 0, 0);
        return 1;
    }
    if (http_post(expire_url) != 0) {
        print_result(n_calls, 0, 0, 0);
        return 1;
    }
    pthread_t *th = calloc((size_t)n_calls, sizeof *th);
    if (!th || pthread_barrier_init(&go_barrier, NULL, (unsigned)n_calls + 1) != 0) return 1;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    for (long i = 0; i < n_calls; i++)
        if (pthread_create(&th[i], &attr, storm_worker, (void *)(intptr_t)i) != 0) {
            fprintf(stderr, "pthread_create failed at %ld\n", i);
            return 1;
        }
    /* Timed: every thread is waiting; release them all at once. */
    long cpu0 = cpu_us(NULL);
    double t0 = now();
    pthread_barrier_wait(&go_barrier);
    for (long i = 0; i < n_calls; i++) pthread_join(th[i], NULL);
    double wall = now() - t0;
    long cpu = cpu_us(NULL) - cpu0;
    mcp_close(client, NULL, NULL);
    mcp_client_free(client);
    long ok = atomic_load(&n_ok);
    print_result(n_calls, ok, wall, cpu);
    return ok == n_calls ? 0 : 1;
}

static long vmrss_kb(void) {
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return -1;
    char line[256];
    long kb = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld", &kb) == 1) break;
    fclose(f);
    return kb;
}

static int run_hold(long n, const char *url, const char *token) {
    if (n < 1) usage();
    mcp_client **cs = calloc((size_t)n, sizeof *cs);
    if (!cs) return 1;
    mcp_error *err = NULL;
    mcp_options *o = mcp_options_new();
    if (!o || mcp_options_set_url(o, url, &err) != MCP_RESULT_OK ||
        mcp_options_set_bearer_token(o, token, &err) != MCP_RESULT_OK) {
        report("options", err);
        return 1;
    }
    for (long i = 0; i < n; i++) {
        if (mcp_client_new(o, NULL, &cs[i], &err) != MCP_RESULT_OK) {
            report("connect", err);
            mcp_error_free(err);
            err = NULL;
            cs[i] = NULL;
        }
    }
    mcp_options_free(o);
    long ok = 0;
    for (long i = 0; i < n; i++)
        if (cs[i]) ok += call_on(cs[i]);
    long rss = vmrss_kb();
    for (long i = 0; i < n; i++)
        if (cs[i]) {
            mcp_close(cs[i], NULL, NULL);
            mcp_client_free(cs[i]);
        }
    free(cs);
    long maxrss = 0;
    cpu_us(&maxrss);
    printf("RESULT {\"client\":\"mcp-client (C)\",\"version\":\"%s\",\"clients\":%ld,\"ok\":%ld,"
           "\"rss_kb\":%ld,\"peak_rss_kb\":%ld}\n",
           mcp_version(), n, ok, rss, maxrss);
    fflush(stdout);
    return ok == n ? 0 : 1;
}

int main(int argc, char **argv) {
    const char *url = NULL, *token = "", *auth = NULL, *store = NULL, *expire_url = NULL;
    long inflight = 1, warmup = 100, hold = 0;
    n_calls = 1000;
    for (int i = 1; i < argc; i += 2) {
        if (i + 1 >= argc) usage();
        if (!strcmp(argv[i], "--url")) url = argv[i + 1];
        else if (!strcmp(argv[i], "--token")) token = argv[i + 1];
        else if (!strcmp(argv[i], "--calls")) n_calls = atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--inflight")) inflight = atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--warmup")) warmup = atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--auth")) auth = argv[i + 1];
        else if (!strcmp(argv[i], "--store")) store = argv[i + 1];
        else if (!strcmp(argv[i], "--expire-url")) expire_url = argv[i + 1];
        else if (!strcmp(argv[i], "--hold")) hold = atol(argv[i + 1]);
        else usage();
    }
    if (!url) usage();
    if (auth) return run_auth(auth, url, store, expire_url);
    if (hold) return run_hold(hold, url, token);
    if (inflight < 1 || inflight > 4096 || n_calls < 0) usage();
    lat_us = calloc((size_t)n_calls + 1, sizeof *lat_us);
    pthread_t *th = calloc((size_t)inflight, sizeof *th);
    if (!lat_us || !th) return 1;

    mcp_options *o = mcp_options_new();
    mcp_error *err = NULL;
    if (mcp_options_set_url(o, url, &err) != MCP_RESULT_OK ||
        mcp_options_set_bearer_token(o, token, &err) != MCP_RESULT_OK ||
        mcp_client_new(o, NULL, &client, &err) != MCP_RESULT_OK) {
        fprintf(stderr, "connect: %s\n", err ? mcp_error_message(err) : "?");
        return 1;
    }
    mcp_options_free(o);
    for (long i = 0; i < warmup; i++) one_call();
    atomic_store(&reported, 0);

    long cpu0 = cpu_us(NULL);
    double t0 = now();
    for (long i = 0; i < inflight; i++)
        if (pthread_create(&th[i], NULL, worker, NULL) != 0) return 1;
    for (long i = 0; i < inflight; i++) pthread_join(th[i], NULL);
    double wall = now() - t0;
    long cpu = cpu_us(NULL) - cpu0;

    mcp_close(client, NULL, NULL);
    mcp_client_free(client);
    long ok = atomic_load(&n_ok);
    print_result(n_calls, ok, wall, cpu);
    return ok == n_calls ? 0 : 1;
}
