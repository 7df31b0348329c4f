/* This project's C ABI (libmcp_client.so) under the benches/compare driver contract
 * (benches/compare/README.md): one mcp_client with a static bearer token, K C threads sharing
 * it, each calling mcp_call_tool until N calls have been started.
 *
 *   driver-c --url URL --token TOKEN --calls N --inflight K --warmup W */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "mcp_client.h"

static const char *ARGS = "{\"text\":\"hello\"}";

static mcp_client *client;
static long n_calls;
static atomic_long next_call;
static atomic_long n_ok;
static atomic_int reported;
static unsigned long *lat_us;

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

/* One call; 1 when its result's first content item is the text "hello". */
static int one_call(void) {
    char *out = NULL;
    mcp_error *err = NULL;
    if (mcp_call_tool(client, "echo", ARGS, NULL, &out, &err) != MCP_RESULT_OK) {
        if (atomic_exchange(&reported, 1) == 0)
            fprintf(stderr, "call failed: %s\n", err ? mcp_error_message(err) : "?");
        mcp_error_free(err);
        return 0;
    }
    /* The result JSON is the server's (`{"content":[{"type":"text","text":"hello"}]}`, keys in
     * any order): the first content item holds both members, and no error flag. */
    const char *c = out ? strstr(out, "\"content\"") : NULL;
    const char *end = c ? strchr(c, '}') : NULL;
    int ok = 0;
    if (end) {
        const char *t = strstr(c, "\"text\":\"hello\"");
        const char *ty = strstr(c, "\"type\":\"text\"");
        ok = t && ty && t < end && ty < end && strstr(out, "\"isError\":true") == NULL;
    }
    if (!ok && atomic_exchange(&reported, 1) == 0) fprintf(stderr, "unexpected result: %s\n", out ? out : "(null)");
    mcp_string_free(out);
    return ok;
}

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
    fprintf(stderr, "usage: driver-c --url URL --token TOKEN --calls N --inflight K --warmup W\n");
    exit(2);
}

int main(int argc, char **argv) {
    const char *url = NULL, *token = "";
    long inflight = 1, warmup = 100;
    n_calls = 1000;
    for (int i = 1; i < argc; i += 2) {
        if (i + 1 >= argc) usage();
        if (!strcmp(argv[i], "--url")) url = argv[i + 1];
        else if (!strcmp(argv[i], "--token")) token = argv[i + 1];
        else if (!strcmp(argv[i], "--calls")) n_calls = atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--inflight")) inflight = atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--warmup")) warmup = atol(argv[i + 1]);
        else usage();
    }
    if (!url || inflight < 1 || inflight > 4096 || n_calls < 0) usage();
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
    qsort(lat_us, (size_t)n_calls, sizeof *lat_us, cmp);
    long maxrss = 0;
    cpu_us(&maxrss);
    long ok = atomic_load(&n_ok);
    printf("RESULT {\"client\":\"mcp-client (C)\",\"version\":\"%s\",\"calls\":%ld,\"ok\":%ld,"
           "\"wall_us\":%.0f,\"p50_us\":%lu,\"p99_us\":%lu,\"cpu_us\":%ld,\"peak_rss_kb\":%ld}\n",
           mcp_version(), n_calls, ok, wall * 1e6, pct(0.50), pct(0.99), cpu, maxrss);
    return ok == n_calls ? 0 : 1;
}
