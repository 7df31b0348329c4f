/* The C side of the transport benchmark: tools/call round trips through the C ABI, from one C
 * thread and from many C threads sharing one client, with this process's CPU per call.
 *
 *   bench_client URL SEQ_CALLS CONC_CALLS THREADS
 *
 * Prints two lines, `seq CALLS_PER_S CPU_US_PER_CALL` and `conc CALLS_PER_S CPU_US_PER_CALL`;
 * benches/transport.rs runs it in the same rounds as the Rust clients and puts the figures in
 * its table. Exits non-zero on any failed call. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "mcp_client.h"

static const char *ARGS = "{\"text\":\"hello benchmark\"}";

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static int calls(mcp_client *c, long n) {
    for (long i = 0; i < n; i++) {
        char *out = NULL;
        mcp_error *err = NULL;
        if (mcp_call_tool(c, "echo", ARGS, NULL, &out, &err) != MCP_RESULT_OK) {
            fprintf(stderr, "call failed: %s\n", err ? mcp_error_message(err) : "?");
            mcp_error_free(err);
            return 1;
        }
        if (out == NULL || strstr(out, "hello benchmark") == NULL) return 1;
        mcp_string_free(out);
    }
    return 0;
}

typedef struct {
    mcp_client *client;
    long n;
    int failed;
} worker;

static void *run_worker(void *p) {
    worker *w = p;
    w->failed = calls(w->client, w->n);
    return NULL;
}

static void report(const char *what, long n, double wall, double cpu_s) {
    printf("%s %.0f %.2f\n", what, (double)n / wall, cpu_s * 1e6 / (double)n);
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: bench_client URL SEQ_CALLS CONC_CALLS THREADS\n");
        return 2;
    }
    long seq = atol(argv[2]), conc = atol(argv[3]);
    int threads = atoi(argv[4]);
    if (threads < 1 || threads > 1024) return 2;
    mcp_options *o = mcp_options_new();
    mcp_error *err = NULL;
    mcp_client *c = NULL;
    if (mcp_options_set_url(o, argv[1], &err) != MCP_RESULT_OK ||
        mcp_client_new(o, NULL, &c, &err) != MCP_RESULT_OK) {
        fprintf(stderr, "connect: %s\n", err ? mcp_error_message(err) : "?");
        return 1;
    }
    mcp_options_free(o);
    if (calls(c, 200)) return 1; /* warm up */

    double t0 = now(), c0 = cpu();
    if (calls(c, seq)) return 1;
    report("seq", seq, now() - t0, cpu() - c0);

    worker *w = calloc((size_t)threads, sizeof *w);
    pthread_t *th = calloc((size_t)threads, sizeof *th);
    if (w == NULL || th == NULL) return 1;
    long per = conc / threads;
    t0 = now();
    c0 = cpu();
    for (int i = 0; i < threads; i++) {
        w[i] = (worker){c, per, 0};
        if (pthread_create(&th[i], NULL, run_worker, &w[i]) != 0) return 1;
    }
    int failed = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(th[i], NULL);
        failed |= w[i].failed;
    }
    report("conc", per * threads, now() - t0, cpu() - c0);
    free(w);
    free(th);
    mcp_close(c, NULL, NULL);
    mcp_client_free(c);
    return failed;
}
