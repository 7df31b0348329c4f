/* A tiny test harness for the C tests of mcp-client: checks that count, the test server as a
 * child process, and a minimal HTTP/1.0 GET client (http:// only) standing in for a browser.
 *
 * Each test program runs the tests named on its command line (all without arguments) and
 * ends with the line `RESULT passed=N failed=M`, which tests/c/run.sh adds up. */
#ifndef MCP_TEST_HARNESS_H
#define MCP_TEST_HARNESS_H

#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mcp_client.h"

extern char **environ;

static int h_failures_in_test;
static int h_passed, h_failed;

#define CHECK(cond)                                                                         \
    do {                                                                                    \
        if (!(cond)) {                                                                      \
            fprintf(stderr, "    %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);    \
            h_failures_in_test++;                                                           \
        }                                                                                   \
    } while (0)

/* Check a result code; print the error's message when it differs. */
#define CHECK_RC(rc, expected, err)                                                         \
    do {                                                                                    \
        mcp_result h_rc_ = (rc);                                                            \
        if (h_rc_ != (expected)) {                                                          \
            fprintf(stderr, "    %s:%d: %s returned %d (%s), expected %s: %s\n", __FILE__,  \
                    __LINE__, #rc, (int)h_rc_, mcp_result_str(h_rc_), #expected,            \
                    (err) ? mcp_error_message(err) : "(no error details)");                 \
            h_failures_in_test++;                                                           \
        }                                                                                   \
    } while (0)

#define CHECK_OK(rc, err) CHECK_RC(rc, MCP_RESULT_OK, err)

/* Whether `haystack` (may be NULL) contains `needle`. */
static inline int h_contains(const char *haystack, const char *needle) {
    return haystack != NULL && strstr(haystack, needle) != NULL;
}

typedef void (*h_test_fn)(void);
typedef struct {
    const char *name;
    h_test_fn fn;
} h_test;

static inline double h_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline void h_sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* Run the tests selected by argv (all when none is named). */
static inline int h_run(const h_test *tests, size_t n, int argc, char **argv) {
    for (size_t i = 0; i < n; i++) {
        int selected = argc <= 1;
        for (int a = 1; a < argc; a++)
            if (strcmp(argv[a], tests[i].name) == 0) selected = 1;
        if (!selected) continue;
        h_failures_in_test = 0;
        double t0 = h_now();
        tests[i].fn();
        double dt = h_now() - t0;
        if (h_failures_in_test == 0) {
            h_passed++;
            printf("ok   %-40s %.2fs\n", tests[i].name, dt);
        } else {
            h_failed++;
            printf("FAIL %-40s %.2fs\n", tests[i].name, dt);
        }
        fflush(stdout);
    }
    printf("RESULT passed=%d failed=%d\n", h_passed, h_failed);
    return h_failed == 0 ? 0 : 1;
}

/* ---- the test server ------------------------------------------------------------------- */

typedef struct {
    pid_t pid;
    char url[256]; /* http://127.0.0.1:PORT/mcp */
} h_server;

/* Start target/debug/mcp-test-server (or $MCP_TEST_SERVER) with up to 6 extra arguments
 * (NULL-terminated) and read the URL it prints. Returns 0 on success. */
static inline int h_server_start(h_server *s, const char *const *extra) {
    const char *bin = getenv("MCP_TEST_SERVER");
    if (bin == NULL) bin = "target/debug/mcp-test-server";
    const char *argv[10];
    size_t n = 0;
    argv[n++] = bin;
    argv[n++] = "--port";
    argv[n++] = "0";
    for (size_t i = 0; extra != NULL && extra[i] != NULL && n < 9; i++) argv[n++] = extra[i];
    argv[n] = NULL;
    int fds[2];
    if (pipe(fds) != 0) return -1;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    posix_spawn_file_actions_addclose(&fa, fds[1]);
    int rc = posix_spawn(&s->pid, bin, &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    if (rc != 0) {
        fprintf(stderr, "cannot start %s: %s\n", bin, strerror(rc));
        close(fds[0]);
        return -1;
    }
    size_t len = 0;
    char c;
    while (len + 1 < sizeof s->url && read(fds[0], &c, 1) == 1 && c != '\n') s->url[len++] = c;
    s->url[len] = '\0';
    close(fds[0]);
    if (strncmp(s->url, "http://", 7) != 0) {
        fprintf(stderr, "the test server printed no URL (got \"%s\")\n", s->url);
        kill(s->pid, SIGTERM);
        waitpid(s->pid, NULL, 0);
        return -1;
    }
    return 0;
}

static inline void h_server_stop(h_server *s) {
    if (s->pid > 0) {
        kill(s->pid, SIGTERM);
        waitpid(s->pid, NULL, 0);
        s->pid = 0;
    }
}

/* ---- a minimal HTTP client ------------------------------------------------------------- */

/* GET `url` (http:// only, no redirects followed). Returns the status (or -1) and, when the
 * response has a Location header and `location_out` is not NULL, a malloc'd copy of it. */
static inline int h_http_get(const char *url, char **location_out) {
    if (location_out) *location_out = NULL;
    if (strncmp(url, "http://", 7) != 0) return -1;
    const char *hostport = url + 7;
    const char *slash = strchr(hostport, '/');
    size_t hplen = slash ? (size_t)(slash - hostport) : strlen(hostport);
    const char *path = slash ? slash : "/";
    char host[256], port[16] = "80";
    if (hplen == 0 || hplen >= sizeof host) return -1;
    memcpy(host, hostport, hplen);
    host[hplen] = '\0';
    char *colon = strrchr(host, ':');
    if (colon) {
        snprintf(port, sizeof port, "%s", colon + 1);
        *colon = '\0';
    }
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, port, &hints, &res) != 0 || res == NULL) return -1;
    int fd = socket(res->ai_family, res->ai_socktype, res->ai_protocol);
    if (fd < 0) {
        freeaddrinfo(res);
        return -1;
    }
    struct timeval tv = {10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, res->ai_addr, res->ai_addrlen) != 0) {
        freeaddrinfo(res);
        close(fd);
        return -1;
    }
    freeaddrinfo(res);
    size_t reqcap = strlen(url) + 256;
    char *req = malloc(reqcap);
    if (req == NULL) {
        close(fd);
        return -1;
    }
    int reqlen = snprintf(req, reqcap, "GET %s HTTP/1.0\r\nHost: %.*s\r\nConnection: close\r\n\r\n",
                          path, (int)hplen, hostport);
    ssize_t sent = send(fd, req, (size_t)reqlen, 0);
    free(req);
    if (sent != reqlen) {
        close(fd);
        return -1;
    }
    size_t cap = 16384, len = 0;
    char *buf = malloc(cap);
    if (buf == NULL) {
        close(fd);
        return -1;
    }
    for (;;) {
        if (len + 1 >= cap) break;
        ssize_t k = recv(fd, buf + len, cap - 1 - len, 0);
        if (k <= 0) break;
        len += (size_t)k;
    }
    close(fd);
    buf[len] = '\0';
    int status = -1;
    if (sscanf(buf, "HTTP/%*s %d", &status) != 1) status = -1;
    if (location_out) {
        for (char *line = strstr(buf, "\r\n"); line && line[2] != '\r'; line = strstr(line + 2, "\r\n")) {
            if (strncasecmp(line + 2, "Location:", 9) == 0) {
                char *v = line + 11;
                while (*v == ' ') v++;
                char *end = strstr(v, "\r\n");
                size_t vl = end ? (size_t)(end - v) : strlen(v);
                *location_out = malloc(vl + 1);
                if (*location_out) {
                    memcpy(*location_out, v, vl);
                    (*location_out)[vl] = '\0';
                }
                break;
            }
        }
    }
    free(buf);
    return status;
}

/* What a browser does with an authorization URL on a server that approves at once: GET it and
 * follow the redirects (to the client's loopback listener). Returns the last status. */
static inline int h_browse(const char *url) {
    char *cur = strdup(url);
    int status = -1;
    for (int hops = 0; cur != NULL && hops < 5; hops++) {
        char *next = NULL;
        status = h_http_get(cur, &next);
        free(cur);
        cur = (status >= 300 && status < 400) ? next : NULL;
        if (cur == NULL) free(next);
    }
    free(cur);
    return status;
}

#endif
