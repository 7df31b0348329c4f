/* OAuth through the C ABI against the test server's authorization server: the headless
 * presenter, a URL callback acting as the browser (loopback listener), a callback handing the
 * redirect back itself, the two-step flow without callbacks, OAuth error fields, a custom
 * store kept in a C array (a second client signs in silently), token refresh, and the
 * authorization event callback, the client issuer binding. */
#include "harness.h"

static h_server server;

/* ---- a store in a C array ---------------------------------------------------------------- */

#define STORE_SLOTS 8

typedef struct {
    pthread_mutex_t lock;
    char *keys[STORE_SLOTS];
    char *values[STORE_SLOTS];
    atomic_int loads, saves, removes, frees;
} c_store;

static int store_find(c_store *s, const char *key) {
    for (int i = 0; i < STORE_SLOTS; i++)
        if (s->keys[i] != NULL && strcmp(s->keys[i], key) == 0) return i;
    return -1;
}

static int32_t store_load(void *ud, const char *key, char **value_out) {
    c_store *s = ud;
    atomic_fetch_add(&s->loads, 1);
    pthread_mutex_lock(&s->lock);
    int i = store_find(s, key);
    if (i >= 0) *value_out = mcp_string_dup(s->values[i]);
    pthread_mutex_unlock(&s->lock);
    return 0;
}

static int32_t store_save(void *ud, const char *key, const char *value) {
    c_store *s = ud;
    atomic_fetch_add(&s->saves, 1);
    pthread_mutex_lock(&s->lock);
    int i = store_find(s, key);
    if (i < 0)
        for (i = 0; i < STORE_SLOTS && s->keys[i] != NULL; i++) {
        }
    int rc = 1;
    if (i < STORE_SLOTS) {
        if (s->keys[i] == NULL) s->keys[i] = strdup(key);
        free(s->values[i]);
        s->values[i] = strdup(value);
        rc = 0;
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

static int32_t store_remove(void *ud, const char *key) {
    c_store *s = ud;
    atomic_fetch_add(&s->removes, 1);
    pthread_mutex_lock(&s->lock);
    int i = store_find(s, key);
    if (i >= 0) {
        free(s->keys[i]);
        free(s->values[i]);
        s->keys[i] = s->values[i] = NULL;
    }
    pthread_mutex_unlock(&s->lock);
    return 0;
}

static void store_free(void *ud) {
    c_store *s = ud;
    atomic_fetch_add(&s->frees, 1);
}

static void store_clear(c_store *s) {
    for (int i = 0; i < STORE_SLOTS; i++) {
        free(s->keys[i]);
        free(s->values[i]);
        s->keys[i] = s->values[i] = NULL;
    }
}

/* ---- presenters ------------------------------------------------------------------------------ */

typedef struct {
    atomic_int calls;
    int hand_back;            /* return the redirect instead of letting the listener take it */
    int refuse;               /* return this non-zero code */
    pthread_t browser;        /* the "browser" of the last call (hand_back == 0) */
    int browser_started;
    mcp_options *other;       /* for the reentrancy check */
    mcp_result reentrant_rc;
} presenter_state;

static void *browser_thread(void *p) {
    char *url = p;
    h_browse(url); /* GET the authorization URL, follow the redirect to the loopback listener */
    free(url);
    return NULL;
}

static int32_t present(void *ud, const char *url, const char *redirect_uri, char **redirect_out) {
    presenter_state *s = ud;
    atomic_fetch_add(&s->calls, 1);
    if (s->other != NULL) {
        mcp_client *c = NULL;
        s->reentrant_rc = mcp_client_new(s->other, NULL, &c, NULL);
    }
    if (s->refuse) return s->refuse;
    if (strncmp(redirect_uri, "http://127.0.0.1:", 17) != 0) return 99;
    if (s->hand_back) {
        /* Do what the browser would, without following the last redirect: hand it back. */
        char *location = NULL;
        int status = h_http_get(url, &location);
        if (status < 300 || status >= 400 || location == NULL) {
            free(location);
            return 98;
        }
        *redirect_out = location; /* malloc'd: the library frees it */
        return 0;
    }
    /* Like opening a browser: start it and return at once; the library's loopback listener
     * receives the redirect. */
    s->browser_started = pthread_create(&s->browser, NULL, browser_thread, strdup(url)) == 0;
    return 0;
}

static void join_browser(presenter_state *s) {
    if (s->browser_started) {
        pthread_join(s->browser, NULL);
        s->browser_started = 0;
    }
}

static mcp_options *oauth_options(void) {
    mcp_options *o = mcp_options_new();
    CHECK_OK(mcp_options_set_url(o, server.url, NULL), NULL);
    CHECK_OK(mcp_options_set_auth(o, MCP_AUTH_MODE_OAUTH, NULL), NULL);
    CHECK_OK(mcp_options_set_store(o, MCP_STORE_KIND_MEMORY, NULL, NULL), NULL);
    CHECK_OK(mcp_options_set_redirect_timeout_ms(o, 10000, NULL), NULL);
    return o;
}

static void check_echo(mcp_client *c, const char *text) {
    char args[128], *out = NULL;
    mcp_error *err = NULL;
    snprintf(args, sizeof args, "{\"text\":\"%s\"}", text);
    CHECK_OK(mcp_call_tool(c, "echo", args, NULL, &out, &err), err);
    CHECK(h_contains(out, text));
    mcp_string_free(out);
    mcp_error_free(err);
}

/* ---- tests ------------------------------------------------------------------------------------ */

static void test_unauthorized_without_oauth(void) {
    mcp_options *o = mcp_options_new();
    CHECK_OK(mcp_options_set_url(o, server.url, NULL), NULL);
    mcp_client *c = NULL;
    mcp_error *err = NULL;
    CHECK_RC(mcp_client_new(o, NULL, &c, &err), MCP_RESULT_AUTH, err);
    CHECK(err != NULL && mcp_error_http_status(err) == 0 && h_contains(mcp_error_message(err), "401"));
    mcp_error_free(err);
    mcp_options_free(o);
}

static void test_headless(void) {
    mcp_options *o = oauth_options();
    CHECK_OK(mcp_options_set_headless_presenter(o, true, NULL), NULL);
    mcp_client *c = NULL;
    mcp_error *err = NULL;
    CHECK_OK(mcp_client_new(o, NULL, &c, &err), err);
    check_echo(c, "headless");
    char *status = NULL;
    CHECK_OK(mcp_auth_status(c, &status, &err), err);
    CHECK(h_contains(status, "\"has_token\":true"));
    CHECK(!h_contains(status, "access_token"));
    mcp_string_free(status);
    mcp_client_free(c);
    mcp_options_free(o);
}

static void test_url_callback_and_custom_store(void) {
    static c_store store;
    static presenter_state p;
    memset(&p, 0, sizeof p);
    pthread_mutex_init(&store.lock, NULL);
    mcp_options *o = oauth_options();
    CHECK_OK(mcp_options_set_presenter(o, present, &p, NULL, NULL), NULL);
    CHECK_OK(mcp_options_set_store_callbacks(o, store_load, store_save, store_remove, &store, store_free, NULL), NULL);
    mcp_client *c = NULL;
    mcp_error *err = NULL;
    CHECK_OK(mcp_client_new(o, NULL, &c, &err), err);
    join_browser(&p);
    CHECK(atomic_load(&p.calls) == 1);
    CHECK(atomic_load(&store.saves) >= 1);
    CHECK(atomic_load(&store.loads) >= 1);
    check_echo(c, "signed in");
    mcp_client_free(c);
    c = NULL;
    /* A second client with the same store: the stored tokens, no new sign-in. */
    int saves = atomic_load(&store.saves);
    CHECK_OK(mcp_client_new(o, NULL, &c, &err), err);
    CHECK(atomic_load(&p.calls) == 1);
    check_echo(c, "silently");
    (void)saves;
    /* Logout deletes the entry. */
    CHECK_OK(mcp_logout(c, NULL, &err), err);
    CHECK(atomic_load(&store.removes) >= 1);
    mcp_client_free(c);
    CHECK(atomic_load(&store.frees) == 0); /* the options still hold the store */
    mcp_options_free(o);
    CHECK(atomic_load(&store.frees) == 1);
    store_clear(&store);
    pthread_mutex_destroy(&store.lock);
}

static void test_callback_hands_back_redirect(void) {
    static presenter_state p;
    memset(&p, 0, sizeof p);
    p.hand_back = 1;
    p.other = mcp_options_new();
    CHECK_OK(mcp_options_set_url(p.other, server.url, NULL), NULL);
    mcp_options *o = oauth_options();
    CHECK_OK(mcp_options_set_presenter(o, present, &p, NULL, NULL), NULL);
    mcp_client *c = NULL;
    mcp_error *err = NULL;
    CHECK_OK(mcp_client_new(o, NULL, &c, &err), err);
    CHECK(atomic_load(&p.calls) == 1);
    /* A blocking call from inside the callback is refused, not deadlocked. */
    CHECK_RC(p.reentrant_rc, MCP_RESULT_REENTRANT, NULL);
    check_echo(c, "handed back");
    /* Authorizing again now is quick: the token is held. */
    CHECK_OK(mcp_authorize(c, NULL, &err), err);
    mcp_client_free(c);
    mcp_options_free(o);
    mcp_options_free(p.other);
}

static void test_presenter_refuses(void) {
    static presenter_state p;
    memset(&p, 0, sizeof p);
    p.refuse = 7;
    mcp_options *o = oauth_options();
    CHECK_OK(mcp_options_set_presenter(o, present, &p, NULL, NULL), NULL);
    mcp_client *c = NULL;
    mcp_error *err = NULL;
    CHECK_RC(mcp_client_new(o, NULL, &c, &err), MCP_RESULT_AUTH, err);
    CHECK(c == NULL);
    CHECK(err != NULL && h_contains(mcp_error_message(err), "returned 7"));
    mcp_error_free(err);
    mcp_options_free(o);
}

/* Replace `code=...` in a redirect URL by an OAuth error (keeping state and iss). */
static char *with_error(const char *location) {
    const char *code = strstr(location, "code=");
    if (code == NULL) return NULL;
    const char *end = strchr(code, '&');
    const char *err = "error=access_denied&error_description=the%20user%20said%20no";
    size_t n = strlen(location) + strlen(err) + 1;
    char *out = malloc(n);
    if (out == NULL) return NULL;
    snprintf(out, n, "%.*s%s%s", (int)(code - location), location, err, end ? end : "");
    return out;
}

static void test_two_step_without_callbacks(void) {
    static presenter_state p;
    memset(&p, 0, sizeof p);
    p.refuse = 5; /* must not be used */
    mcp_options *o = oauth_options();
    CHECK_OK(mcp_options_set_presenter(o, present, &p, NULL, NULL), NULL);
    mcp_client *c = NULL;
    mcp_error *err = NULL;
    CHECK_OK(mcp_client_create(o, &c, &err), err);
    mcp_options_free(o);
    const char *redirect_uri = "http://127.0.0.1:9/callback";
    /* First a refusal, to see the OAuth error fields. */
    char *url = NULL, *location = NULL;
    CHECK_OK(mcp_authorize_begin(c, redirect_uri, NULL, &url, &err), err);
    CHECK(h_contains(url, "code_challenge") && h_contains(url, "state="));
    int status = h_http_get(url, &location);
    CHECK(status == 302 || status == 303 || status == 307);
    CHECK(location != NULL && strncmp(location, redirect_uri, strlen(redirect_uri)) == 0);
    char *denied = location ? with_error(location) : NULL;
    CHECK(denied != NULL);
    if (denied) {
        CHECK_RC(mcp_authorize_complete(c, denied, NULL, &err), MCP_RESULT_AUTH, err);
        CHECK(err != NULL && mcp_error_oauth_error(err) && strcmp(mcp_error_oauth_error(err), "access_denied") == 0);
        CHECK(err != NULL && h_contains(mcp_error_oauth_error_description(err), "the user said no"));
        mcp_error_free(err);
        err = NULL;
    }
    free(denied);
    free(location);
    mcp_string_free(url);
    url = NULL;
    location = NULL;
    /* Then the real thing. */
    CHECK_OK(mcp_authorize_begin(c, redirect_uri, NULL, &url, &err), err);
    status = h_http_get(url, &location);
    CHECK(location != NULL);
    if (location) CHECK_OK(mcp_authorize_complete(c, location, NULL, &err), err);
    /* A second completion has nothing pending. */
    if (location) CHECK_RC(mcp_authorize_complete(c, location, NULL, NULL), MCP_RESULT_AUTH, NULL);
    CHECK_RC(mcp_authorize_complete(c, "not a url", NULL, NULL), MCP_RESULT_INVALID_ARGUMENT, NULL);
    free(location);
    mcp_string_free(url);
    CHECK_OK(mcp_connect(c, NULL, &err), err);
    check_echo(c, "two steps");
    CHECK(atomic_load(&p.calls) == 0);
    mcp_client_free(c);
}

static void test_refresh(void) {
    /* A server whose access tokens live 1 s: the client refreshes them. */
    h_server short_lived;
    static const char *const args[] = {"--oauth", "--token-ttl", "1", NULL};
    CHECK(h_server_start(&short_lived, args) == 0);
    mcp_options *o = mcp_options_new();
    CHECK_OK(mcp_options_set_url(o, short_lived.url, NULL), NULL);
    CHECK_OK(mcp_options_set_auth(o, MCP_AUTH_MODE_OAUTH, NULL), NULL);
    CHECK_OK(mcp_options_set_store(o, MCP_STORE_KIND_MEMORY, NULL, NULL), NULL);
    CHECK_OK(mcp_options_set_headless_presenter(o, true, NULL), NULL);
    mcp_client *c = NULL;
    mcp_error *err = NULL;
    CHECK_OK(mcp_client_new(o, NULL, &c, &err), err);
    check_echo(c, "first");
    h_sleep_ms(1500);
    check_echo(c, "after expiry");
    char *status = NULL;
    CHECK_OK(mcp_auth_status(c, &status, &err), err);
    CHECK(h_contains(status, "\"has_refresh_token\":true"));
    mcp_string_free(status);
    mcp_client_free(c);
    mcp_options_free(o);
    h_server_stop(&short_lived);
}

/* ---- authorization events ------------------------------------------------------------------ */

typedef struct {
    pthread_mutex_t lock;
    char log[4096]; /* every event's JSON, one per line */
    atomic_int calls, frees;
} events_state;

static void on_auth_event(void *ud, const char *event_json) {
    events_state *s = ud;
    atomic_fetch_add(&s->calls, 1);
    pthread_mutex_lock(&s->lock);
    size_t used = strlen(s->log);
    snprintf(s->log + used, sizeof s->log - used, "%s\n", event_json);
    pthread_mutex_unlock(&s->lock);
}

static void events_free(void *ud) {
    events_state *s = ud;
    atomic_fetch_add(&s->frees, 1);
}

static void test_auth_events(void) {
    static events_state ev = {.lock = PTHREAD_MUTEX_INITIALIZER};
    mcp_options *o = oauth_options();
    CHECK_OK(mcp_options_set_headless_presenter(o, true, NULL), NULL);
    CHECK_RC(mcp_options_set_auth_event_callback(NULL, on_auth_event, &ev, events_free, NULL),
             MCP_RESULT_NULL_ARGUMENT, NULL);
    CHECK_OK(mcp_options_set_auth_event_callback(o, on_auth_event, &ev, events_free, NULL), NULL);
    mcp_client *c = NULL;
    mcp_error *err = NULL;
    CHECK_OK(mcp_client_new(o, NULL, &c, &err), err);
    check_echo(c, "events");
    CHECK(h_contains(ev.log, "{\"event\":\"store_selected\""));
    CHECK(h_contains(ev.log, "{\"event\":\"sign_in_required\""));
    CHECK(h_contains(ev.log, "\"grant\":\"authorization_code\""));
    CHECK(h_contains(ev.log, "{\"event\":\"browser_opened\""));
    CHECK(h_contains(ev.log, "{\"event\":\"signed_in\""));
    CHECK(!h_contains(ev.log, "logged_out"));
    CHECK_OK(mcp_logout(c, NULL, &err), err);
    CHECK(h_contains(ev.log, "{\"event\":\"logged_out\""));
    /* The user data lives until both the client and the options are gone. */
    mcp_client_free(c);
    CHECK(atomic_load(&ev.frees) == 0);
    mcp_options_free(o);
    CHECK(atomic_load(&ev.frees) == 1);
    CHECK(atomic_load(&ev.calls) >= 5);
}

/* ---- device codes and the enterprise grant ---------------------------------------------- */

typedef struct {
    atomic_int calls;
    char code[64];
    pthread_t approver;
    int approver_started;
} device_state;

static void *approve_device(void *p) {
    char *url = p;
    char *location = NULL;
    h_http_get(url, &location); /* the verification page approves the code it is given */
    free(location);
    free(url);
    return NULL;
}

static int32_t show_device_code(void *ud, const char *uri, const char *complete, const char *code,
                                uint64_t expires_in) {
    device_state *s = ud;
    atomic_fetch_add(&s->calls, 1);
    snprintf(s->code, sizeof s->code, "%s", code);
    if (complete == NULL || !h_contains(complete, code) || !h_contains(uri, "/device") || expires_in == 0)
        return 5;
    /* The user approves on "another device" while the library polls. */
    s->approver_started = pthread_create(&s->approver, NULL, approve_device, strdup(complete)) == 0;
    return 0;
}

static void test_device_code_callback(void) {
    h_server dev;
    static const char *const args[] = {"--oauth", "--oauth-device", NULL};
    CHECK(h_server_start(&dev, args) == 0);
    static device_state s;
    memset(&s, 0, sizeof s);
    mcp_options *o = mcp_options_new();
    CHECK_OK(mcp_options_set_url(o, dev.url, NULL), NULL);
    CHECK_OK(mcp_options_set_grant(o, MCP_GRANT_DEVICE_CODE, NULL, NULL), NULL); /* implies OAuth */
    CHECK_OK(mcp_options_set_store(o, MCP_STORE_KIND_MEMORY, NULL, NULL), NULL);
    CHECK_OK(mcp_options_set_device_code_callback(o, show_device_code, &s, NULL, NULL), NULL);
    mcp_client *c = NULL;
    mcp_error *err = NULL;
    CHECK_OK(mcp_client_new(o, NULL, &c, &err), err);
    CHECK(atomic_load(&s.calls) == 1);
    CHECK(strlen(s.code) >= 4);
    check_echo(c, "device");
    if (s.approver_started) pthread_join(s.approver, NULL);
    mcp_client_free(c);
    mcp_options_free(o);
    h_server_stop(&dev);
}

static void test_enterprise_grant(void) {
    mcp_options *o = mcp_options_new();
    mcp_error *err = NULL;
    CHECK_RC(mcp_options_set_enterprise_grant(o, NULL, "id", NULL, "tok", NULL, NULL), MCP_RESULT_NULL_ARGUMENT, NULL);
    CHECK_RC(mcp_options_set_enterprise_grant(o, "http://idp.example/token", "id", NULL, "tok", NULL, &err),
             MCP_RESULT_INVALID_ARGUMENT, err);
    CHECK(err != NULL && h_contains(mcp_error_message(err), "http://idp.example/token"));
    mcp_error_free(err);
    err = NULL;
    /* This server's own token endpoint stands in for the identity provider: it refuses the
     * token exchange, which shows the grant went there first. */
    char idp[512];
    snprintf(idp, sizeof idp, "%s", server.url);
    char *path = strstr(idp + 8, "/");
    CHECK(path != NULL);
    if (path != NULL) snprintf(path, sizeof idp - (size_t)(path - idp), "/token");
    CHECK_OK(mcp_options_set_url(o, server.url, NULL), NULL);
    CHECK_OK(mcp_options_set_store(o, MCP_STORE_KIND_MEMORY, NULL, NULL), NULL);
    CHECK_OK(mcp_options_set_enterprise_grant(o, idp, "enterprise-client", NULL, "id-token-of-the-user", NULL, NULL), NULL);
    mcp_client *c = NULL;
    CHECK_RC(mcp_client_new(o, NULL, &c, &err), MCP_RESULT_AUTH, err);
    CHECK(err != NULL && h_contains(mcp_error_message(err), "identity provider"));
    CHECK(err != NULL && !h_contains(mcp_error_message(err), "id-token-of-the-user"));
    mcp_error_free(err);
    mcp_options_free(o);
}

/* A pre-registered client bound to another authorization server: never sent to this one. */
static void test_client_issuer(void) {
    mcp_options *o = mcp_options_new();
    mcp_error *err = NULL;
    CHECK_RC(mcp_options_set_client_issuer(o, NULL, NULL), MCP_RESULT_NULL_ARGUMENT, NULL);
    CHECK_OK(mcp_options_set_url(o, server.url, NULL), NULL);
    CHECK_OK(mcp_options_set_store(o, MCP_STORE_KIND_MEMORY, NULL, NULL), NULL);
    CHECK_OK(mcp_options_set_headless_presenter(o, true, NULL), NULL);
    CHECK_OK(mcp_options_set_client_id(o, "pre-registered-id", "pre-registered-secret", NULL), NULL);
    CHECK_OK(mcp_options_set_client_issuer(o, "https://elsewhere.example", NULL), NULL);
    mcp_client *c = NULL;
    CHECK_RC(mcp_client_new(o, NULL, &c, &err), MCP_RESULT_AUTH, err);
    CHECK(err != NULL && h_contains(mcp_error_message(err), "https://elsewhere.example"));
    CHECK(err != NULL && !h_contains(mcp_error_message(err), "pre-registered-secret"));
    mcp_error_free(err);
    mcp_options_free(o);
}

/* ---- the Redis store (MCP_TEST_REDIS_URL, set by run.sh when redis-server is there) ----- */

static void test_store_url_refusals(void) {
    mcp_options *o = mcp_options_new();
    mcp_error *err = NULL;
    CHECK_RC(mcp_options_set_store_url(o, NULL, &err), MCP_RESULT_NULL_ARGUMENT, err);
    mcp_error_free(err);
    err = NULL;
    CHECK_RC(mcp_options_set_store_url(o, "redis://u:hunter2@127.0.0.1:1/0?lease_ms=often", &err),
             MCP_RESULT_INVALID_ARGUMENT, err);
    CHECK(err != NULL && h_contains(mcp_error_message(err), "lease_ms"));
    CHECK(err != NULL && !h_contains(mcp_error_message(err), "hunter2"));
    mcp_error_free(err);
    err = NULL;
    CHECK_RC(mcp_options_set_store_url(o, "cupboard", &err), MCP_RESULT_INVALID_ARGUMENT, err);
    mcp_error_free(err);
    CHECK_OK(mcp_options_set_store_url(o, "file:/tmp/mcp-client-c-test", NULL), NULL);
    mcp_options_free(o);
}

static void test_redis_store(void) {
    const char *redis = getenv("MCP_TEST_REDIS_URL");
    if (redis == NULL || redis[0] == '\0') {
        printf("skip redis_store: MCP_TEST_REDIS_URL is not set (no redis-server)\n");
        return;
    }
    char url[512];
    snprintf(url, sizeof url, "%s?prefix=c-test-%ld", redis, (long)getpid());
    /* One host signs in: the credential goes to Redis. */
    mcp_options *o = oauth_options();
    CHECK_OK(mcp_options_set_store_url(o, url, NULL), NULL);
    CHECK_OK(mcp_options_set_headless_presenter(o, true, NULL), NULL);
    mcp_client *c = NULL;
    mcp_error *err = NULL;
    CHECK_OK(mcp_client_new(o, NULL, &c, &err), err);
    check_echo(c, "signed in");
    char *status = NULL;
    CHECK_OK(mcp_auth_status(c, &status, &err), err);
    CHECK(h_contains(status, "\"has_token\":true"));
    mcp_string_free(status);
    mcp_client_free(c);
    mcp_options_free(o);
    /* Another starts warm from Redis: its presenter refuses, so signing in would fail. */
    static presenter_state p;
    memset(&p, 0, sizeof p);
    p.refuse = 7;
    o = oauth_options();
    CHECK_OK(mcp_options_set_store_url(o, url, NULL), NULL);
    CHECK_OK(mcp_options_set_presenter(o, present, &p, NULL, NULL), NULL);
    c = NULL;
    CHECK_OK(mcp_client_new(o, NULL, &c, &err), err);
    check_echo(c, "warm from redis");
    mcp_client_free(c);
    mcp_options_free(o);
    /* Redis where nothing listens: a clear error naming the store, no sign-in. */
    o = oauth_options();
    CHECK_OK(mcp_options_set_store_url(o, "redis://127.0.0.1:1/0?timeout_ms=500", NULL), NULL);
    CHECK_OK(mcp_options_set_presenter(o, present, &p, NULL, NULL), NULL);
    c = NULL;
    CHECK_RC(mcp_client_new(o, NULL, &c, &err), MCP_RESULT_AUTH, err);
    CHECK(c == NULL);
    CHECK(err != NULL && h_contains(mcp_error_message(err), "redis://127.0.0.1:1/0"));
    CHECK(err != NULL && h_contains(mcp_error_message(err), "unavailable"));
    mcp_error_free(err);
    mcp_options_free(o);
}

int main(int argc, char **argv) {
    static const char *const args[] = {"--oauth", NULL};
    if (h_server_start(&server, args) != 0) return 2;
    static const h_test tests[] = {
        {"unauthorized_without_oauth", test_unauthorized_without_oauth},
        {"headless", test_headless},
        {"url_callback_and_custom_store", test_url_callback_and_custom_store},
        {"callback_hands_back_redirect", test_callback_hands_back_redirect},
        {"presenter_refuses", test_presenter_refuses},
        {"two_step_without_callbacks", test_two_step_without_callbacks},
        {"refresh", test_refresh},
        {"auth_events", test_auth_events},
        {"device_code_callback", test_device_code_callback},
        {"enterprise_grant", test_enterprise_grant},
        {"client_issuer", test_client_issuer},
        {"store_url_refusals", test_store_url_refusals},
        {"redis_store", test_redis_store},
    };
    int rc = h_run(tests, sizeof tests / sizeof tests[0], argc, argv);
    h_server_stop(&server);
    return rc;
}
