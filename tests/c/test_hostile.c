/* Hostile servers through the C ABI: the test server's /hostile/{case} routes (see
 * tests/server/src/hostile and tests/hostile.rs), each a complete MCP + OAuth server correct
 * except for one misbehaviour, met through mcp_client_new, mcp_authorize or mcp_call_tool.
 * Each test checks the result code (MCP_RESULT_OK for the cases the client must recover from),
 * a time bound, an error message that is there and holds no secret, and that no secret the
 * server saw or handed out (tokens, codes, PKCE verifiers, the client secret, Basic
 * credentials: GET /hostile/_state) reached a log line (TRACE, the log callback) or an
 * authorization event. The big-body cases (1 GiB bodies, gzip and brotli bombs, an endless SSE
 * line, JSON nested 100,000 deep, a 1 MiB header) are among them. */
#include "harness.h"

static h_server server;
static char base[256]; /* http://127.0.0.1:PORT */
/* Every timeout and bound is multiplied by this (`--valgrind`: 5, or $HOSTILE_TIME_FACTOR). */
static double factor = 1.0;

#define CLIENT_ID "hostile-client"
#define CLIENT_SECRET "hostile-canary-client-secret-5b1e9f"

/* ---- captured text: log lines and authorization events ----------------------------------- */

typedef struct {
    pthread_mutex_t lock;
    char *text;
    size_t len, cap;
} textbuf;

static textbuf logs = {PTHREAD_MUTEX_INITIALIZER, NULL, 0, 0};
static textbuf events = {PTHREAD_MUTEX_INITIALIZER, NULL, 0, 0};

static void tb_append(textbuf *b, const char *a, const char *c) {
    pthread_mutex_lock(&b->lock);
    size_t need = strlen(a) + strlen(c) + 3;
    if (b->len + need + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1 << 16;
        while (b->len + need + 1 > cap) cap *= 2;
        char *t = realloc(b->text, cap);
        if (t != NULL) {
            b->text = t;
            b->cap = cap;
        }
    }
    if (b->len + need + 1 <= b->cap) {
        b->len += (size_t)sprintf(b->text + b->len, "%s %s\n", a, c);
    }
    pthread_mutex_unlock(&b->lock);
}

static void tb_clear(textbuf *b) {
    pthread_mutex_lock(&b->lock);
    b->len = 0;
    if (b->text) b->text[0] = '\0';
    pthread_mutex_unlock(&b->lock);
}

static void on_log(void *ud, mcp_log_level level, const char *target, const char *message) {
    (void)ud;
    (void)level;
    tb_append(&logs, target, message);
}

static void on_event(void *ud, const char *event_json) {
    (void)ud;
    tb_append(&events, "event", event_json);
}

/* ---- the secrets the server saw: GET /hostile/_state ------------------------------------- */

#define MAX_SECRETS 4096
static char *secrets[MAX_SECRETS];
static size_t n_secrets;

/* GET `path` on the test server; the body, malloc'd (NULL on failure). */
static char *http_get_body(const char *path) {
    const char *hostport = base + 7;
    char host[128], port[16];
    const char *colon = strrchr(hostport, ':');
    if (colon == NULL || (size_t)(colon - hostport) >= sizeof host) return NULL;
    memcpy(host, hostport, (size_t)(colon - hostport));
    host[colon - hostport] = '\0';
    snprintf(port, sizeof port, "%s", colon + 1);
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, port, &hints, &res) != 0 || res == NULL) return NULL;
    int fd = socket(res->ai_family, res->ai_socktype, res->ai_protocol);
    if (fd < 0 || connect(fd, res->ai_addr, res->ai_addrlen) != 0) {
        if (fd >= 0) close(fd);
        freeaddrinfo(res);
        return NULL;
    }
    freeaddrinfo(res);
    struct timeval tv = {10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char req[512];
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.0\r\nHost: %s\r\nConnection: close\r\n\r\n", path,
                     hostport);
    if (send(fd, req, (size_t)n, 0) != n) {
        close(fd);
        return NULL;
    }
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    while (buf != NULL) {
        if (len + 1 >= cap) {
            char *t = realloc(buf, cap * 2);
            if (t == NULL) break;
            buf = t;
            cap *= 2;
        }
        ssize_t k = recv(fd, buf + len, cap - 1 - len, 0);
        if (k <= 0) break;
        len += (size_t)k;
    }
    close(fd);
    if (buf == NULL) return NULL;
    buf[len] = '\0';
    char *body = strstr(buf, "\r\n\r\n");
    char *out = body ? strdup(body + 4) : NULL;
    free(buf);
    return out;
}

static void free_secrets(void) {
    for (size_t i = 0; i < n_secrets; i++) free(secrets[i]);
    n_secrets = 0;
}

/* Reload the secrets: every "value" of /hostile/_state, and the client secret. */
static void load_secrets(void) {
    free_secrets();
    secrets[n_secrets++] = strdup(CLIENT_SECRET);
    char *state = http_get_body("/hostile/_state");
    CHECK(state != NULL);
    if (state == NULL) return;
    const char *p = state;
    while ((p = strstr(p, "\"value\":\"")) != NULL && n_secrets < MAX_SECRETS) {
        p += 9;
        const char *end = strchr(p, '"');
        if (end == NULL) break;
        secrets[n_secrets] = strndup(p, (size_t)(end - p));
        if (secrets[n_secrets] != NULL) n_secrets++;
        p = end + 1;
    }
    free(state);
}

/* Whether `text` holds a secret, or the first or last 16 characters of one. */
static int leaks(const char *text, const char **which) {
    if (text == NULL) return 0;
    for (size_t i = 0; i < n_secrets; i++) {
        const char *s = secrets[i];
        size_t len = strlen(s);
        char part[17];
        if (strstr(text, s) != NULL) {
            *which = s;
            return 1;
        }
        if (len >= 32) {
            memcpy(part, s, 16);
            part[16] = '\0';
            if (strstr(text, part) != NULL) {
                *which = s;
                return 1;
            }
            memcpy(part, s + len - 16, 17);
            if (strstr(text, part) != NULL) {
                *which = s;
                return 1;
            }
        }
    }
    return 0;
}

static void check_no_secret(const char *what, const char *text) {
    const char *which = NULL;
    if (leaks(text, &which)) {
        fprintf(stderr, "    a secret (%.12s…) appears in %s\n", which, what);
        h_failures_in_test++;
    }
}

/* ---- the cases ----------------------------------------------------------------------------- */

enum via { VIA_NEW, VIA_AUTHORIZE, VIA_CALL };

typedef struct {
    const char *name;
    enum via via;        /* where the misbehaviour is met */
    int dynamic;         /* dynamic registration instead of the pre-registered client */
    mcp_result expect;   /* MCP_RESULT_OK: the client recovers */
    uint16_t status;     /* the mcp_error_http_status expected (0: not checked) */
    const char *oauth;   /* the mcp_error_oauth_error expected (NULL: not checked) */
    const char *message; /* a substring of the message (of the result, for MCP_RESULT_OK) */
    double max_seconds;  /* the bound of the whole case */
} hcase;

static mcp_options *options_for(const hcase *hc) {
    char url[512];
    snprintf(url, sizeof url, "%s/hostile/%s/mcp", base, hc->name);
    mcp_options *o = mcp_options_new();
    CHECK_OK(mcp_options_set_url(o, url, NULL), NULL);
    CHECK_OK(mcp_options_set_auth(o, MCP_AUTH_MODE_OAUTH, NULL), NULL);
    CHECK_OK(mcp_options_set_store(o, MCP_STORE_KIND_MEMORY, NULL, NULL), NULL);
    CHECK_OK(mcp_options_set_headless_presenter(o, true, NULL), NULL);
    CHECK_OK(mcp_options_set_redirect_timeout_ms(o, (uint64_t)(3000 * factor), NULL), NULL);
    CHECK_OK(mcp_options_set_request_timeout_ms(o, (uint64_t)(3000 * factor), NULL), NULL);
    CHECK_OK(mcp_options_set_connect_timeout_ms(o, (uint64_t)(2000 * factor), NULL), NULL);
    CHECK_OK(mcp_options_set_auth_event_callback(o, on_event, NULL, NULL, NULL), NULL);
    if (!hc->dynamic) CHECK_OK(mcp_options_set_client_id(o, CLIENT_ID, CLIENT_SECRET, NULL), NULL);
    return o;
}

static void run_case(const hcase *hc) {
    tb_clear(&logs);
    tb_clear(&events);
    mcp_options *o = options_for(hc);
    /* OAuth requests have no timeout of their own in the C ABI but their 30 s default: the
     * call options bound every operation (a sign-in included). */
    mcp_call_options *co = mcp_call_options_new();
    CHECK_OK(mcp_call_options_set_timeout_ms(co, (uint64_t)(4000 * factor)), NULL);
    mcp_client *c = NULL;
    mcp_error *err = NULL;
    char *result = NULL;
    mcp_result rc;
    double t0 = h_now();
    switch (hc->via) {
    case VIA_NEW:
        rc = mcp_client_new(o, co, &c, &err);
        break;
    case VIA_AUTHORIZE:
        CHECK_OK(mcp_client_create(o, &c, &err), err);
        rc = c ? mcp_authorize(c, co, &err) : MCP_RESULT_INTERNAL;
        break;
    default:
        CHECK_OK(mcp_client_new(o, co, &c, &err), err);
        rc = c ? mcp_call_tool(c, "echo", "{\"text\":\"hostile\"}", co, &result, &err)
               : MCP_RESULT_INTERNAL;
        break;
    }
    double dt = h_now() - t0;
    CHECK_RC(rc, hc->expect, err);
    if (dt > hc->max_seconds * factor) {
        fprintf(stderr, "    %s took %.2fs, over %.1fs\n", hc->name, dt, hc->max_seconds * factor);
        h_failures_in_test++;
    }
    load_secrets();
    if (hc->expect == MCP_RESULT_OK) {
        /* The result as the server sent it: the echo, or what `message` names. */
        if (hc->via == VIA_CALL) CHECK(h_contains(result, hc->message ? hc->message : "hostile"));
    } else {
        const char *msg = err ? mcp_error_message(err) : NULL;
        CHECK(msg != NULL && msg[0] != '\0');
        check_no_secret("the error message", msg);
        check_no_secret("the OAuth error description", err ? mcp_error_oauth_error_description(err) : NULL);
        if (hc->status) CHECK(err != NULL && mcp_error_http_status(err) == hc->status);
        if (hc->oauth) CHECK(err != NULL && h_contains(mcp_error_oauth_error(err), hc->oauth));
        if (hc->message) {
            if (!h_contains(msg, hc->message))
                fprintf(stderr, "    expected \"%s\" in: %s\n", hc->message, msg ? msg : "(null)");
            CHECK(h_contains(msg, hc->message));
        }
        printf("     %s: %.300s\n", hc->name, msg ? msg : "(no message)");
    }
    mcp_string_free(result);
    mcp_error_free(err);
    if (c != NULL) {
        mcp_close(c, NULL, NULL);
        mcp_client_free(c);
    }
    mcp_call_options_free(co);
    mcp_options_free(o);
    /* Everything logged or reported for this case. */
    pthread_mutex_lock(&logs.lock);
    CHECK(logs.len > 0);
    check_no_secret("the log", logs.text);
    pthread_mutex_unlock(&logs.lock);
    pthread_mutex_lock(&events.lock);
    check_no_secret("an authorization event", events.text);
    pthread_mutex_unlock(&events.lock);
}

#define AUTH MCP_RESULT_AUTH
#define PROTO MCP_RESULT_PROTOCOL
#define QUICK 5.0
/* X(name, via, dynamic, expect, status, oauth error, message, max seconds) */
#define CASES(X)                                                                                     \
    X(issuer_mismatch, VIA_NEW, 0, AUTH, 0, NULL, "https://honest.example", QUICK)                   \
    X(issuer_mixup_other_origin, VIA_AUTHORIZE, 0, AUTH, 0, NULL, "http://localhost:", QUICK)        \
    X(resource_for_another_server, VIA_AUTHORIZE, 0, AUTH, 0, NULL, "127.0.0.1:1/mcp", QUICK)        \
    X(javascript_authorization_endpoint, VIA_AUTHORIZE, 0, AUTH, 0, NULL, "javascript:", QUICK)      \
    X(file_token_endpoint, VIA_NEW, 0, AUTH, 0, NULL, "file:", QUICK)                                \
    X(prm_auth_server_plain_http, VIA_NEW, 0, AUTH, 0, NULL, "as.example.com", QUICK)                \
    X(metadata_redirect_loop, VIA_NEW, 0, AUTH, 0, NULL, "HTTP 302", QUICK)                           \
    X(mcp_redirect_loop, VIA_NEW, 0, PROTO, 307, NULL, NULL, QUICK)                                  \
    X(endless_401, VIA_NEW, 0, AUTH, 0, NULL, "401", QUICK)                                           \
    X(endless_403, VIA_CALL, 0, AUTH, 0, NULL, "403", QUICK)                                          \
    X(endless_403_insufficient_scope, VIA_CALL, 0, AUTH, 0, NULL, "still refuses", QUICK)             \
    X(wrong_state, VIA_AUTHORIZE, 0, AUTH, 0, NULL, "state", QUICK)                                   \
    X(wrong_iss, VIA_AUTHORIZE, 0, AUTH, 0, NULL, "evil.example", QUICK)                              \
    X(token_type_wrong, VIA_AUTHORIZE, 0, AUTH, 0, NULL, "MAC", QUICK)                                \
    X(token_html_error_page, VIA_AUTHORIZE, 0, AUTH, 0, NULL, "HTTP 500", QUICK)                      \
    X(registration_200_error_body, VIA_AUTHORIZE, 1, AUTH, 0, "invalid_client_metadata", NULL, QUICK) \
    X(closed_mid_token, VIA_NEW, 0, AUTH, 0, NULL, "token request", QUICK)                            \
    X(closed_mid_tool_call, VIA_CALL, 0, MCP_RESULT_TRANSPORT, 0, NULL, NULL, QUICK)                  \
    X(wrong_jsonrpc_id, VIA_CALL, 0, PROTO, 0, NULL, "987654321", QUICK)                              \
    X(gigabyte_body, VIA_CALL, 0, PROTO, 0, NULL, "exceeds the limit", 8.0)                           \
    X(gigabyte_token_response, VIA_NEW, 0, AUTH, 0, NULL, "exceeds the limit", 8.0)                   \
    X(gzip_bomb, VIA_CALL, 0, PROTO, 0, NULL, "malformed", 8.0)                                       \
    X(brotli_bomb, VIA_CALL, 0, PROTO, 0, NULL, "malformed", QUICK)                                   \
    X(deep_json_metadata, VIA_NEW, 0, AUTH, 0, NULL, "recursion limit", QUICK)                        \
    X(deep_json_result, VIA_CALL, 0, MCP_RESULT_OK, 0, NULL, "\"deep\":[[[[[[[[", QUICK)            \
    X(deep_json_token_response, VIA_CALL, 0, MCP_RESULT_OK, 0, NULL, NULL, QUICK)                     \
    X(endless_sse_line, VIA_CALL, 0, PROTO, 0, NULL, "exceeds the limit", 8.0)                        \
    X(www_authenticate_one_mebibyte, VIA_NEW, 0, MCP_RESULT_TRANSPORT, 0, NULL, "too large", QUICK)   \
    X(www_authenticate_thousands_of_params, VIA_CALL, 0, MCP_RESULT_OK, 0, NULL, NULL, QUICK)         \
    X(trickle_mcp_response, VIA_CALL, 0, MCP_RESULT_TIMEOUT, 0, NULL, NULL, 7.0)                      \
    X(never_answer_token, VIA_NEW, 0, MCP_RESULT_TIMEOUT, 0, NULL, NULL, 7.0)                         \
    X(never_answer_authorize, VIA_AUTHORIZE, 0, AUTH, 0, NULL, "no authorization response", 7.0)     \
    X(invalid_utf8_result, VIA_CALL, 0, PROTO, 0, NULL, "invalid unicode", QUICK)                     \
    X(invalid_utf8_token_response, VIA_NEW, 0, AUTH, 0, NULL, "invalid unicode", QUICK)               \
    X(expires_in_negative, VIA_CALL, 0, MCP_RESULT_OK, 0, NULL, NULL, QUICK)                          \
    X(session_expires_between_calls, VIA_CALL, 0, MCP_RESULT_OK, 0, NULL, NULL, QUICK)                \
    X(error_page_reflects_credentials, VIA_CALL, 0, PROTO, 500, NULL, "[redacted]", QUICK)            \
    X(notification_flood, VIA_CALL, 0, MCP_RESULT_TIMEOUT, 0, NULL, NULL, 8.0)

#define DEFINE(name, via, dyn, expect, status, oauth, message, max)                                 \
    static void test_##name(void) {                                                                  \
        static const hcase hc = {#name, via, dyn, expect, status, oauth, message, max};              \
        run_case(&hc);                                                                               \
    }
CASES(DEFINE)

#define ENTRY(name, via, dyn, expect, status, oauth, message, max) {"hostile_" #name, test_##name},

/* Under valgrind a case takes 5-15 s (every client and sign-in at valgrind speed), so
 * `--valgrind` runs these: each way a misbehaviour crosses the boundary (mcp_client_new,
 * mcp_authorize, mcp_call_tool; OAuth error fields, HTTP status, redacted messages, a raw
 * result string of 200 KB, a recovery) and the big bodies. */
static const char *const valgrind_cases[] = {
    "hostile_issuer_mismatch",        "hostile_wrong_state",
    "hostile_registration_200_error_body", "hostile_token_html_error_page",
    "hostile_error_page_reflects_credentials", "hostile_wrong_jsonrpc_id",
    "hostile_gigabyte_body",          "hostile_gzip_bomb",
    "hostile_endless_sse_line",       "hostile_deep_json_result",
    "hostile_www_authenticate_one_mebibyte", "hostile_expires_in_negative",
};

int main(int argc, char **argv) {
    static const h_test tests[] = {CASES(ENTRY)};
    size_t n = sizeof tests / sizeof tests[0];
    const char *f = getenv("HOSTILE_TIME_FACTOR");
    if (f != NULL && atof(f) >= 1.0) factor = atof(f);
    /* `--valgrind`: the cases of `valgrind_cases`, with timeouts five times as long. */
    char **sel = argv;
    int nsel = argc;
    const char *picked[sizeof tests / sizeof tests[0] + 1];
    if (argc > 1 && strcmp(argv[1], "--valgrind") == 0) {
        if (f == NULL) factor = 5.0;
        nsel = 1;
        picked[0] = argv[0];
        for (size_t i = 0; i < n; i++) {
            int keep = 0;
            for (size_t j = 0; j < sizeof valgrind_cases / sizeof valgrind_cases[0]; j++)
                if (strcmp(tests[i].name, valgrind_cases[j]) == 0) keep = 1;
            if (keep)
                picked[nsel++] = tests[i].name;
            else
                printf("skip %s (not run under valgrind)\n", tests[i].name);
        }
        sel = (char **)picked;
    }
    if (h_server_start(&server, NULL) != 0) return 2;
    snprintf(base, sizeof base, "%s", server.url);
    char *tail = strstr(base, "/mcp");
    if (tail != NULL) *tail = '\0';
    CHECK_OK(mcp_log_set_callback(MCP_LOG_LEVEL_TRACE, on_log, NULL, NULL, NULL), NULL);
    int rc = h_run(tests, n, nsel, sel);
    CHECK_OK(mcp_log_set_callback(MCP_LOG_LEVEL_OFF, NULL, NULL, NULL, NULL), NULL);
    h_server_stop(&server);
    free_secrets();
    free(logs.text);
    free(events.text);
    return rc;
}
