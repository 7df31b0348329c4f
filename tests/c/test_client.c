/* The C ABI without OAuth: connecting, tools, resources, prompts, JSON in and out, every
 * argument error, concurrent calls, cancellation, timeouts, callbacks and their user data,
 * tasks. */
#include "harness.h"

static h_server server;

static mcp_options *url_options(void) {
    mcp_options *o = mcp_options_new();
    CHECK(o != NULL);
    CHECK_OK(mcp_options_set_url(o, server.url, NULL), NULL);
    return o;
}

static mcp_client *connect_default(void) {
    mcp_options *o = url_options();
    mcp_client *c = NULL;
    mcp_error *err = NULL;
    CHECK_OK(mcp_client_new(o, NULL, &c, &err), err);
    mcp_error_free(err);
    mcp_options_free(o);
    return c;
}

/* ---- tests ----------------------------------------------------------------------------- */

static void test_version(void) {
    char expected[64];
    snprintf(expected, sizeof expected, "%d.%d.%d", MCP_VERSION_MAJOR, MCP_VERSION_MINOR,
             MCP_VERSION_PATCH);
    CHECK(strcmp(mcp_version(), expected) == 0);
    CHECK(strcmp(mcp_result_str(MCP_RESULT_OK), "success") == 0);
    CHECK(h_contains(mcp_result_str(MCP_RESULT_NULL_ARGUMENT), "NULL"));
    CHECK(strcmp(mcp_result_str(12345), "unknown result code") == 0);
    CHECK(strcmp(mcp_result_str(-1), "unknown result code") == 0);
}

static void test_free_null_and_twice(void) {
    mcp_client_free(NULL);
    mcp_options_free(NULL);
    mcp_error_free(NULL);
    mcp_string_free(NULL);
    /* A second free of the same handle is recognised and ignored. */
    mcp_options *o = mcp_options_new();
    mcp_options_free(o);
    mcp_options_free(o);
    mcp_error *err = NULL;
    CHECK_RC(mcp_client_new(NULL, NULL, NULL, &err), MCP_RESULT_NULL_ARGUMENT, err);
    CHECK(err != NULL);
    mcp_error_free(err);
    mcp_error_free(err);
    mcp_client *c = connect_default();
    mcp_client_free(c);
    mcp_client_free(c);
    /* Accessors accept NULL. */
    CHECK(mcp_error_code(NULL) == MCP_RESULT_NULL_ARGUMENT);
    CHECK(strcmp(mcp_error_message(NULL), "") == 0);
    CHECK(mcp_error_oauth_error(NULL) == NULL);
    CHECK(!mcp_error_rpc_code(NULL, NULL));
}

static void test_option_errors(void) {
    mcp_options *o = mcp_options_new();
    const char bad_utf8[] = {'h', 't', 't', 'p', ':', '/', '/', (char)0xff, (char)0xfe, 0};
    CHECK_RC(mcp_options_set_url(NULL, server.url, NULL), MCP_RESULT_NULL_ARGUMENT, NULL);
    CHECK_RC(mcp_options_set_url(o, NULL, NULL), MCP_RESULT_NULL_ARGUMENT, NULL);
    CHECK_RC(mcp_options_set_url(o, bad_utf8, NULL), MCP_RESULT_INVALID_UTF8, NULL);
    CHECK_RC(mcp_options_set_url(o, "ftp://example.com/", NULL), MCP_RESULT_INVALID_ARGUMENT, NULL);
    CHECK_RC(mcp_options_set_url(o, "not a url", NULL), MCP_RESULT_INVALID_ARGUMENT, NULL);
    CHECK_RC(mcp_options_set_stdio(o, "a 'b", NULL), MCP_RESULT_INVALID_ARGUMENT, NULL);
    CHECK_RC(mcp_options_set_stdio(o, "", NULL), MCP_RESULT_INVALID_ARGUMENT, NULL);
    CHECK_RC(mcp_options_set_client_info(o, "x", NULL, NULL), MCP_RESULT_NULL_ARGUMENT, NULL);
    CHECK_RC(mcp_options_set_auth(o, 42, NULL), MCP_RESULT_INVALID_ARGUMENT, NULL);
    CHECK_RC(mcp_options_set_bearer_token(o, bad_utf8, NULL), MCP_RESULT_INVALID_UTF8, NULL);
    CHECK_RC(mcp_options_add_header(o, "bad header", "v", NULL), MCP_RESULT_INVALID_ARGUMENT, NULL);
    CHECK_RC(mcp_options_add_header(o, "X-Ok", "line\nbreak", NULL), MCP_RESULT_INVALID_ARGUMENT, NULL);
    CHECK_RC(mcp_options_add_header(o, NULL, "v", NULL), MCP_RESULT_NULL_ARGUMENT, NULL);
    CHECK_RC(mcp_options_set_store(o, 99, NULL, NULL), MCP_RESULT_INVALID_ARGUMENT, NULL);
    CHECK_RC(mcp_options_set_store(o, MCP_STORE_KIND_MEMORY, "/tmp", NULL), MCP_RESULT_INVALID_ARGUMENT, NULL);
    CHECK_RC(mcp_options_set_request_timeout_ms(o, 0, NULL), MCP_RESULT_INVALID_ARGUMENT, NULL);
    CHECK_RC(mcp_options_set_capabilities(o, "{oops", NULL), MCP_RESULT_INVALID_JSON, NULL);
    CHECK_RC(mcp_options_set_capabilities(o, "[1]", NULL), MCP_RESULT_INVALID_ARGUMENT, NULL);
    CHECK_RC(mcp_options_set_capabilities(o, "{\"experimental\":{}}", NULL), MCP_RESULT_OK, NULL);
    CHECK_RC(mcp_log_set_callback(9, NULL, NULL, NULL, NULL), MCP_RESULT_INVALID_ARGUMENT, NULL);
    /* Grants and keys. */
    CHECK_RC(mcp_options_set_grant(o, 42, NULL, NULL), MCP_RESULT_INVALID_ARGUMENT, NULL);
    CHECK_RC(mcp_options_set_grant(o, MCP_GRANT_JWT_BEARER, NULL, NULL), MCP_RESULT_INVALID_ARGUMENT, NULL);
    CHECK_RC(mcp_options_set_grant(o, MCP_GRANT_DEVICE_CODE, "x", NULL), MCP_RESULT_INVALID_ARGUMENT, NULL);
    CHECK_RC(mcp_options_set_grant(o, MCP_GRANT_JWT_BEARER, bad_utf8, NULL), MCP_RESULT_INVALID_UTF8, NULL);
    CHECK_OK(mcp_options_set_grant(o, MCP_GRANT_JWT_BEARER, "eyJ.assertion.sig", NULL), NULL);
    CHECK_OK(mcp_options_set_grant(o, MCP_GRANT_CLIENT_CREDENTIALS, NULL, NULL), NULL);
    CHECK_OK(mcp_options_set_grant(o, MCP_GRANT_AUTHORIZATION_CODE, NULL, NULL), NULL);
    CHECK_RC(mcp_options_set_private_key(o, "not a key", NULL, NULL), MCP_RESULT_INVALID_ARGUMENT, NULL);
    CHECK_RC(mcp_options_set_private_key(o, NULL, NULL, NULL), MCP_RESULT_NULL_ARGUMENT, NULL);
    /* No server set: the client cannot be made; the out-parameter stays as it was. */
    mcp_client *c = (mcp_client *)&server;
    mcp_error *err = NULL;
    CHECK_RC(mcp_client_new(o, NULL, &c, &err), MCP_RESULT_INVALID_ARGUMENT, err);
    CHECK(c == (mcp_client *)&server);
    CHECK(err != NULL && mcp_error_code(err) == MCP_RESULT_INVALID_ARGUMENT);
    CHECK(err != NULL && h_contains(mcp_error_message(err), "no server"));
    mcp_error_free(err);
    err = NULL;
    CHECK_RC(mcp_client_new(o, NULL, NULL, &err), MCP_RESULT_NULL_ARGUMENT, err);
    CHECK(err != NULL && h_contains(mcp_error_message(err), "client_out"));
    mcp_error_free(err);
    /* Bearer mode needs a token. */
    CHECK_OK(mcp_options_set_url(o, server.url, NULL), NULL);
    CHECK_OK(mcp_options_set_auth(o, MCP_AUTH_MODE_BEARER, NULL), NULL);
    CHECK_RC(mcp_client_new(o, NULL, &c, NULL), MCP_RESULT_INVALID_ARGUMENT, NULL);
    mcp_options_free(o);
}

/* Setters say why they refuse; OAuth-only options turn OAuth on, and an option the chosen mode
 * would not use is refused when the client is made; strings for callbacks come from the
 * library's allocator. */
static void test_setter_messages_and_implied_modes(void) {
    mcp_options *o = mcp_options_new();
    mcp_error *err = NULL;
    CHECK_RC(mcp_options_set_url(o, "ftp://example.com/", &err), MCP_RESULT_INVALID_ARGUMENT, err);
    CHECK(err != NULL && h_contains(mcp_error_message(err), "http or https"));
    mcp_error_free(err);
    err = NULL;
    CHECK_RC(mcp_options_set_private_key(o, "not a key", NULL, &err), MCP_RESULT_INVALID_ARGUMENT, err);
    CHECK(err != NULL && strlen(mcp_error_message(err)) > 0);
    mcp_error_free(err);
    err = NULL;
    CHECK_RC(mcp_options_set_capabilities(o, "[1]", &err), MCP_RESULT_INVALID_ARGUMENT, err);
    CHECK(err != NULL && h_contains(mcp_error_message(err), "JSON object"));
    mcp_error_free(err);
    err = NULL;
    CHECK_RC(mcp_options_set_store(o, MCP_STORE_KIND_MEMORY, "/tmp", &err), MCP_RESULT_INVALID_ARGUMENT, err);
    CHECK(err != NULL && h_contains(mcp_error_message(err), "MCP_STORE_KIND_FILE"));
    mcp_error_free(err);
    err = NULL;
    CHECK_RC(mcp_options_set_auth(o, 7, &err), MCP_RESULT_INVALID_ARGUMENT, err);
    CHECK(err != NULL && h_contains(mcp_error_message(err), "unknown auth mode 7"));
    mcp_error_free(err);
    err = NULL;

    /* Scopes mean OAuth: the client is an OAuth client without mcp_options_set_auth. */
    CHECK_OK(mcp_options_set_url(o, server.url, NULL), NULL);
    CHECK_OK(mcp_options_set_scopes(o, "read write", NULL), NULL);
    mcp_client *c = NULL;
    CHECK_OK(mcp_client_create(o, &c, &err), err);
    char *status = NULL;
    CHECK_OK(mcp_auth_status(c, &status, &err), err);
    CHECK(h_contains(status, "\"has_token\":false"));
    mcp_string_free(status);
    mcp_client_free(c);
    /* ...unless the host chose another mode: then the scopes would be ignored, so it fails. */
    CHECK_OK(mcp_options_set_auth(o, MCP_AUTH_MODE_NONE, NULL), NULL);
    c = NULL;
    CHECK_RC(mcp_client_create(o, &c, &err), MCP_RESULT_INVALID_ARGUMENT, err);
    CHECK(c == NULL);
    CHECK(err != NULL && h_contains(mcp_error_message(err), "OAuth options are set (scopes)"));
    mcp_error_free(err);
    err = NULL;
    mcp_options_free(o);
    /* A bearer token under OAuth would be ignored too. */
    o = mcp_options_new();
    CHECK_OK(mcp_options_set_url(o, server.url, NULL), NULL);
    CHECK_OK(mcp_options_set_auth(o, MCP_AUTH_MODE_OAUTH, NULL), NULL);
    CHECK_OK(mcp_options_set_bearer_token(o, "t0ken", NULL), NULL);
    CHECK_RC(mcp_client_create(o, &c, &err), MCP_RESULT_INVALID_ARGUMENT, err);
    CHECK(err != NULL && h_contains(mcp_error_message(err), "bearer token is set"));
    mcp_error_free(err);
    mcp_options_free(o);

    /* A stdio server takes no HTTP options: they would be ignored, so they are refused. */
    o = mcp_options_new();
    CHECK_OK(mcp_options_set_stdio(o, "/bin/true", NULL), NULL);
    CHECK_OK(mcp_options_add_header(o, "X-Api-Key", "k", NULL), NULL);
    c = NULL;
    CHECK_RC(mcp_client_create(o, &c, &err), MCP_RESULT_INVALID_ARGUMENT, err);
    CHECK(err != NULL && h_contains(mcp_error_message(err), "headers apply to HTTP servers only"));
    mcp_error_free(err);
    err = NULL;
    mcp_options_free(o);

    /* The allocator for strings handed back. */
    char *s = mcp_string_new("ab\0cd", 2);
    CHECK(s != NULL && strcmp(s, "ab") == 0);
    mcp_string_free(s);
    CHECK(mcp_string_new("a\0b", 3) == NULL); /* a NUL inside */
    CHECK(mcp_string_new(NULL, 3) == NULL);
    s = mcp_string_new(NULL, 0);
    CHECK(s != NULL && s[0] == 0);
    mcp_string_free(s);
    s = mcp_string_dup("copy");
    CHECK(s != NULL && strcmp(s, "copy") == 0);
    mcp_string_free(s);
    CHECK(mcp_string_dup(NULL) == NULL);
}

static void test_call_argument_errors(void) {
    mcp_client *c = connect_default();
    const char bad_utf8[] = {'p', 'i', (char)0xc3, (char)0x28, 0};
    char *out = (char *)"untouched";
    char *const untouched = out;
    mcp_error *err = NULL;
    CHECK_RC(mcp_call(NULL, "ping", NULL, NULL, &out, NULL), MCP_RESULT_NULL_ARGUMENT, NULL);
    CHECK_RC(mcp_call(c, NULL, NULL, NULL, &out, NULL), MCP_RESULT_NULL_ARGUMENT, NULL);
    CHECK_RC(mcp_call(c, "ping", NULL, NULL, NULL, NULL), MCP_RESULT_NULL_ARGUMENT, NULL);
    CHECK_RC(mcp_call(c, bad_utf8, NULL, NULL, &out, NULL), MCP_RESULT_INVALID_UTF8, NULL);
    CHECK_RC(mcp_call(c, "tools/list", bad_utf8, NULL, &out, NULL), MCP_RESULT_INVALID_UTF8, NULL);
    CHECK_RC(mcp_call(c, "tools/list", "{\"cursor\":", NULL, &out, &err), MCP_RESULT_INVALID_JSON, err);
    CHECK(err != NULL && mcp_error_code(err) == MCP_RESULT_INVALID_JSON);
    CHECK(err != NULL && h_contains(mcp_error_message(err), "params_json"));
    mcp_error_free(err);
    CHECK_RC(mcp_call(c, "tools/list", "[1,2]", NULL, &out, NULL), MCP_RESULT_INVALID_ARGUMENT, NULL);
    CHECK_RC(mcp_call_tool(c, NULL, "{}", NULL, &out, NULL), MCP_RESULT_NULL_ARGUMENT, NULL);
    CHECK_RC(mcp_call_tool(c, "echo", "{\"text\": }", NULL, &out, NULL), MCP_RESULT_INVALID_JSON, NULL);
    CHECK_RC(mcp_call_tool(c, "echo", "\"text\"", NULL, &out, NULL), MCP_RESULT_INVALID_ARGUMENT, NULL);
    CHECK_RC(mcp_call_tool(c, bad_utf8, "{}", NULL, &out, NULL), MCP_RESULT_INVALID_UTF8, NULL);
    CHECK_RC(mcp_call_tool(c, "echo", "{}", NULL, NULL, NULL), MCP_RESULT_NULL_ARGUMENT, NULL);
    CHECK_RC(mcp_list_tools(c, NULL, NULL, NULL), MCP_RESULT_NULL_ARGUMENT, NULL);
    CHECK_RC(mcp_list_tools(NULL, NULL, &out, NULL), MCP_RESULT_NULL_ARGUMENT, NULL);
    CHECK_RC(mcp_list_resources(c, NULL, NULL, NULL), MCP_RESULT_NULL_ARGUMENT, NULL);
    CHECK_RC(mcp_list_prompts(NULL, NULL, &out, NULL), MCP_RESULT_NULL_ARGUMENT, NULL);
    CHECK_RC(mcp_read_resource(c, NULL, NULL, &out, NULL), MCP_RESULT_NULL_ARGUMENT, NULL);
    CHECK_RC(mcp_read_resource(c, bad_utf8, NULL, &out, NULL), MCP_RESULT_INVALID_UTF8, NULL);
    CHECK_RC(mcp_get_prompt(c, "greet", "{", NULL, &out, NULL), MCP_RESULT_INVALID_JSON, NULL);
    CHECK_RC(mcp_get_prompt(c, NULL, NULL, NULL, &out, NULL), MCP_RESULT_NULL_ARGUMENT, NULL);
    CHECK_RC(mcp_ping(NULL, NULL, NULL), MCP_RESULT_NULL_ARGUMENT, NULL);
    CHECK_RC(mcp_server_info(c, NULL, NULL), MCP_RESULT_NULL_ARGUMENT, NULL);
    CHECK_RC(mcp_close(NULL, NULL, NULL), MCP_RESULT_NULL_ARGUMENT, NULL);
    CHECK_RC(mcp_cancel(NULL), MCP_RESULT_NULL_ARGUMENT, NULL);
    CHECK_RC(mcp_connect(NULL, NULL, NULL), MCP_RESULT_NULL_ARGUMENT, NULL);
    CHECK_RC(mcp_authorize(NULL, NULL, NULL), MCP_RESULT_NULL_ARGUMENT, NULL);
    CHECK_RC(mcp_authorize_begin(c, NULL, NULL, &out, NULL), MCP_RESULT_NULL_ARGUMENT, NULL);
    CHECK_RC(mcp_authorize_complete(c, NULL, NULL, NULL), MCP_RESULT_NULL_ARGUMENT, NULL);
    CHECK_RC(mcp_auth_status(c, NULL, NULL), MCP_RESULT_NULL_ARGUMENT, NULL);
    /* Not an OAuth client. */
    CHECK_RC(mcp_authorize(c, NULL, NULL), MCP_RESULT_INVALID_ARGUMENT, NULL);
    CHECK_RC(mcp_auth_status(c, &out, NULL), MCP_RESULT_INVALID_ARGUMENT, NULL);
    CHECK_RC(mcp_authorize_begin(c, "http://127.0.0.1:9/cb", NULL, &out, NULL), MCP_RESULT_INVALID_ARGUMENT, NULL);
    /* No out-parameter was written by any failure. */
    CHECK(out == untouched);
    mcp_client_free(c);
}

static void test_tools_json(void) {
    mcp_client *c = connect_default();
    char *out = NULL;
    mcp_error *err = NULL;
    CHECK_OK(mcp_call_tool(c, "echo", "{\"text\":\"h\\u00e9llo \\\"C\\\"\"}", NULL, &out, &err), err);
    CHECK(h_contains(out, "h\xc3\xa9llo \\\"C\\\""));
    mcp_string_free(out);
    out = NULL;
    CHECK_OK(mcp_call_tool(c, "add", "{\"a\":2,\"b\":40}", NULL, &out, &err), err);
    CHECK(h_contains(out, "\"structuredContent\"") && h_contains(out, "42"));
    mcp_string_free(out);
    out = NULL;
    /* A tool that fails is a result with isError, not an error. */
    CHECK_OK(mcp_call_tool(c, "fail", NULL, NULL, &out, &err), err);
    CHECK(h_contains(out, "\"isError\":true"));
    mcp_string_free(out);
    out = NULL;
    /* mcp_call with raw JSON. */
    CHECK_OK(mcp_call(c, "tools/call", "{\"name\":\"echo\",\"arguments\":{\"text\":\"raw\"}}", NULL, &out, &err), err);
    CHECK(h_contains(out, "raw"));
    mcp_string_free(out);
    out = NULL;
    /* A JSON-RPC error from the server, with its code. */
    CHECK_RC(mcp_call(c, "no/such/method", "{}", NULL, &out, &err), MCP_RESULT_RPC, err);
    int64_t code = 0;
    CHECK(err != NULL && mcp_error_rpc_code(err, &code) && code == -32601);
    CHECK(err != NULL && mcp_error_oauth_error(err) == NULL);
    CHECK(out == NULL);
    mcp_error_free(err);
    err = NULL;
    CHECK_RC(mcp_call_tool(c, "no_such_tool", "{}", NULL, &out, &err), MCP_RESULT_RPC, err);
    CHECK(err != NULL && mcp_error_rpc_code(err, &code) && code == -32602);
    mcp_error_free(err);
    mcp_client_free(c);
}

static void test_list_tools(void) {
    mcp_client *c = connect_default();
    char *tools = NULL;
    mcp_error *err = NULL;
    CHECK_OK(mcp_list_tools(c, NULL, &tools, &err), err);
    CHECK(tools != NULL && tools[0] == '[');
    CHECK(h_contains(tools, "\"name\":\"echo\"") && h_contains(tools, "\"name\":\"slow\""));
    CHECK(h_contains(tools, "inputSchema"));
    mcp_string_free(tools);
    mcp_client_free(c);
}

static void test_resources_prompts_ping(void) {
    mcp_client *c = connect_default();
    char *out = NULL;
    mcp_error *err = NULL;
    CHECK_OK(mcp_list_resources(c, NULL, &out, &err), err);
    CHECK(h_contains(out, "test://hello"));
    mcp_string_free(out);
    out = NULL;
    CHECK_OK(mcp_read_resource(c, "test://hello", NULL, &out, &err), err);
    CHECK(h_contains(out, "Hello, world!"));
    mcp_string_free(out);
    out = NULL;
    CHECK_OK(mcp_list_prompts(c, NULL, &out, &err), err);
    CHECK(h_contains(out, "greet"));
    mcp_string_free(out);
    out = NULL;
    CHECK_OK(mcp_get_prompt(c, "greet", "{\"name\":\"Ada\"}", NULL, &out, &err), err);
    CHECK(h_contains(out, "Ada"));
    mcp_string_free(out);
    out = NULL;
    CHECK_OK(mcp_ping(c, NULL, &err), err);
    CHECK_OK(mcp_server_info(c, &out, &err), err);
    CHECK(h_contains(out, "protocolVersion") && h_contains(out, "mcp-test-server"));
    mcp_string_free(out);
    mcp_client_free(c);
}

static void test_close(void) {
    mcp_client *c = connect_default();
    mcp_error *err = NULL;
    char *out = NULL;
    CHECK_OK(mcp_close(c, NULL, &err), err);
    CHECK_OK(mcp_close(c, NULL, &err), err);
    CHECK_RC(mcp_call_tool(c, "echo", "{\"text\":\"x\"}", NULL, &out, &err), MCP_RESULT_CLOSED, err);
    CHECK(err != NULL && mcp_error_code(err) == MCP_RESULT_CLOSED);
    mcp_error_free(err);
    mcp_client_free(c);
}

static void test_create_then_connect(void) {
    mcp_options *o = url_options();
    mcp_client *c = NULL;
    mcp_error *err = NULL;
    CHECK_OK(mcp_client_create(o, &c, &err), err);
    mcp_options_free(o);
    CHECK_RC(mcp_ping(c, NULL, &err), MCP_RESULT_NOT_CONNECTED, err);
    mcp_error_free(err);
    err = NULL;
    CHECK_OK(mcp_connect(c, NULL, &err), err);
    CHECK_OK(mcp_connect(c, NULL, &err), err);
    CHECK_OK(mcp_ping(c, NULL, &err), err);
    mcp_client_free(c);
}

static void test_connect_failure(void) {
    mcp_options *o = mcp_options_new();
    /* Nothing listens on port 1. */
    CHECK_OK(mcp_options_set_url(o, "http://127.0.0.1:1/mcp", NULL), NULL);
    mcp_client *c = NULL;
    mcp_error *err = NULL;
    CHECK_RC(mcp_client_new(o, NULL, &c, &err), MCP_RESULT_TRANSPORT, err);
    CHECK(c == NULL);
    CHECK(err != NULL && h_contains(mcp_error_message(err), "127.0.0.1:1"));
    mcp_error_free(err);
    mcp_options_free(o);
}

static void test_bearer_and_headers(void) {
    mcp_options *o = url_options();
    CHECK_OK(mcp_options_set_bearer_token(o, "secret-token", NULL), NULL);
    CHECK_OK(mcp_options_add_header(o, "X-Api-Key", "k", NULL), NULL);
    CHECK_OK(mcp_options_set_client_info(o, "c-tests", "1.2.3", NULL), NULL);
    CHECK_OK(mcp_options_set_connect_timeout_ms(o, 5000, NULL), NULL);
    mcp_client *c = NULL;
    mcp_error *err = NULL;
    CHECK_OK(mcp_client_new(o, NULL, &c, &err), err);
    CHECK_OK(mcp_ping(c, NULL, &err), err);
    mcp_client_free(c);
    mcp_options_free(o);
}

/* ---- threads ---------------------------------------------------------------------------- */

typedef struct {
    mcp_client *client;
    int index;
    int ok;
} worker_arg;

#define CALLS_PER_THREAD 25

static void *worker(void *p) {
    worker_arg *a = p;
    for (int i = 0; i < CALLS_PER_THREAD; i++) {
        char args[64], expect[32];
        snprintf(expect, sizeof expect, "t%d-c%d", a->index, i);
        snprintf(args, sizeof args, "{\"text\":\"%s\"}", expect);
        char *out = NULL;
        if (mcp_call_tool(a->client, "echo", args, NULL, &out, NULL) == MCP_RESULT_OK && h_contains(out, expect))
            a->ok++;
        mcp_string_free(out);
    }
    return NULL;
}

static void test_concurrent_threads(void) {
    mcp_client *c = connect_default();
    pthread_t th[4];
    worker_arg args[4];
    for (int i = 0; i < 4; i++) {
        args[i] = (worker_arg){c, i, 0};
        CHECK(pthread_create(&th[i], NULL, worker, &args[i]) == 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        CHECK(args[i].ok == CALLS_PER_THREAD);
    }
    mcp_client_free(c);
}

typedef struct {
    mcp_client *client;
    mcp_result rc;
    double took;
} slow_arg;

static void *slow_call(void *p) {
    slow_arg *a = p;
    char *out = NULL;
    double t0 = h_now();
    a->rc = mcp_call_tool(a->client, "slow", "{\"ms\":10000}", NULL, &out, NULL);
    a->took = h_now() - t0;
    mcp_string_free(out);
    return NULL;
}

static void test_cancel_from_another_thread(void) {
    mcp_client *c = connect_default();
    slow_arg a[2] = {{c, MCP_RESULT_OK, 0}, {c, MCP_RESULT_OK, 0}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++) CHECK(pthread_create(&th[i], NULL, slow_call, &a[i]) == 0);
    h_sleep_ms(300);
    CHECK_OK(mcp_cancel(c), NULL);
    for (int i = 0; i < 2; i++) {
        pthread_join(th[i], NULL);
        CHECK_RC(a[i].rc, MCP_RESULT_CANCELLED, NULL);
        CHECK(a[i].took < 5.0);
    }
    /* Calls after the cancel are not affected. */
    mcp_error *err = NULL;
    char *out = NULL;
    CHECK_OK(mcp_call_tool(c, "slow", "{\"ms\":10}", NULL, &out, &err), err);
    mcp_string_free(out);
    mcp_client_free(c);
}

static void test_timeouts(void) {
    mcp_options *o = url_options();
    CHECK_OK(mcp_options_set_request_timeout_ms(o, 300, NULL), NULL);
    mcp_client *c = NULL;
    mcp_error *err = NULL;
    CHECK_OK(mcp_client_new(o, NULL, &c, &err), err);
    mcp_options_free(o);
    char *out = NULL;
    double t0 = h_now();
    CHECK_RC(mcp_call_tool(c, "slow", "{\"ms\":5000}", NULL, &out, &err), MCP_RESULT_TIMEOUT, err);
    CHECK(h_now() - t0 < 3.0);
    CHECK(err != NULL && h_contains(mcp_error_message(err), "timed out"));
    mcp_error_free(err);
    err = NULL;
    /* A per-call timeout, longer and shorter than the default. */
    mcp_call_options *longer = mcp_call_options_new();
    CHECK_OK(mcp_call_options_set_timeout_ms(longer, 5000), NULL);
    CHECK_OK(mcp_call(c, "tools/call", "{\"name\":\"slow\",\"arguments\":{\"ms\":500}}", longer, &out, &err), err);
    mcp_string_free(out);
    out = NULL;
    mcp_call_options *shorter = mcp_call_options_new();
    CHECK_OK(mcp_call_options_set_timeout_ms(shorter, 100), NULL);
    t0 = h_now();
    CHECK_RC(mcp_call_tool(c, "slow", "{\"ms\":5000}", shorter, &out, NULL), MCP_RESULT_TIMEOUT, NULL);
    CHECK(h_now() - t0 < 2.0);
    CHECK_RC(mcp_call_options_set_timeout_ms(NULL, 1), MCP_RESULT_NULL_ARGUMENT, NULL);
    mcp_call_options_free(longer);
    mcp_call_options_free(shorter);
    mcp_call_options_free(shorter); /* a second free is ignored */
    mcp_call_options_free(NULL);
    CHECK_OK(mcp_ping(c, NULL, &err), err);
    mcp_client_free(c);
}

/* Many threads on one client, each with its own call options; every other thread cancels
 * only its own call: those end promptly with CANCELLED, the rest complete. */
#define PER_CALL_THREADS 8

typedef struct {
    mcp_client *client;
    mcp_call_options *call;
    int cancel_mine;
    mcp_result rc;
    double took;
} own_call_arg;

static void *own_call(void *p) {
    own_call_arg *a = p;
    char *out = NULL;
    double t0 = h_now();
    /* The ones that are not cancelled finish after 600 ms. */
    a->rc = mcp_call_tool(a->client, "slow", a->cancel_mine ? "{\"ms\":10000}" : "{\"ms\":600}", a->call, &out, NULL);
    a->took = h_now() - t0;
    mcp_string_free(out);
    return NULL;
}

static void test_per_call_cancellation(void) {
    mcp_client *c = connect_default();
    own_call_arg a[PER_CALL_THREADS];
    pthread_t th[PER_CALL_THREADS];
    for (int i = 0; i < PER_CALL_THREADS; i++) {
        a[i] = (own_call_arg){c, mcp_call_options_new(), i % 2, MCP_RESULT_OK, 0};
        CHECK(a[i].call != NULL && !mcp_call_options_is_cancelled(a[i].call));
        CHECK(pthread_create(&th[i], NULL, own_call, &a[i]) == 0);
    }
    h_sleep_ms(200);
    for (int i = 0; i < PER_CALL_THREADS; i++)
        if (a[i].cancel_mine) CHECK_OK(mcp_call_options_cancel(a[i].call), NULL);
    for (int i = 0; i < PER_CALL_THREADS; i++) {
        pthread_join(th[i], NULL);
        if (a[i].cancel_mine) {
            CHECK_RC(a[i].rc, MCP_RESULT_CANCELLED, NULL);
            CHECK(a[i].took < 3.0);
            CHECK(mcp_call_options_is_cancelled(a[i].call));
        } else {
            CHECK_OK(a[i].rc, NULL);
            CHECK(!mcp_call_options_is_cancelled(a[i].call));
        }
    }
    /* Cancelled options stay cancelled: a call made with them ends at once. */
    char *out = NULL;
    double t0 = h_now();
    CHECK_RC(mcp_call_tool(c, "slow", "{\"ms\":5000}", a[1].call, &out, NULL), MCP_RESULT_CANCELLED, NULL);
    CHECK(h_now() - t0 < 1.0);
    /* mcp_cancel still ends calls made with options of their own. */
    own_call_arg b = {c, a[0].call, 1, MCP_RESULT_OK, 0};
    pthread_t tb;
    CHECK(pthread_create(&tb, NULL, own_call, &b) == 0);
    h_sleep_ms(200);
    CHECK_OK(mcp_cancel(c), NULL);
    pthread_join(tb, NULL);
    CHECK_RC(b.rc, MCP_RESULT_CANCELLED, NULL);
    /* The client is still usable. */
    mcp_error *err = NULL;
    CHECK_OK(mcp_call_tool(c, "echo", "{\"text\":\"after\"}", a[0].call, &out, &err), err);
    CHECK(h_contains(out, "after"));
    mcp_string_free(out);
    for (int i = 0; i < PER_CALL_THREADS; i++) mcp_call_options_free(a[i].call);
    CHECK_RC(mcp_call_options_cancel(NULL), MCP_RESULT_NULL_ARGUMENT, NULL);
    CHECK(!mcp_call_options_is_cancelled(NULL));
    mcp_client_free(c);
}

/* ---- callbacks -------------------------------------------------------------------------- */

typedef struct {
    atomic_int notifications;
    atomic_int messages_with_text;
    atomic_int frees;
    atomic_int reentrant_refused;
    _Atomic(mcp_client *) client; /* for the reentrancy check */
} cb_state;

static void on_notification(void *ud, const char *method, const char *params) {
    cb_state *s = ud;
    /* A blocking call from a callback is refused (checked before the count the test waits
     * for). */
    if (atomic_load(&s->client) != NULL && mcp_ping(atomic_load(&s->client), NULL, NULL) == MCP_RESULT_REENTRANT)
        atomic_fetch_add(&s->reentrant_refused, 1);
    atomic_fetch_add(&s->notifications, 1);
    if (strcmp(method, "notifications/message") == 0 && h_contains(params, "hello from C"))
        atomic_fetch_add(&s->messages_with_text, 1);
}

static void count_free(void *ud) {
    cb_state *s = ud;
    atomic_fetch_add(&s->frees, 1);
}

static int wait_for(atomic_int *v, int at_least, int ms) {
    for (int i = 0; i < ms / 10 && atomic_load(v) < at_least; i++) h_sleep_ms(10);
    return atomic_load(v) >= at_least;
}

static void test_notifications_and_user_data_free(void) {
    static cb_state s;
    memset(&s, 0, sizeof s);
    mcp_options *o = url_options();
    CHECK_OK(mcp_options_set_notification_callback(o, on_notification, &s, count_free, NULL), NULL);
    mcp_client *c = NULL;
    mcp_error *err = NULL;
    CHECK_OK(mcp_client_new(o, NULL, &c, &err), err);
    atomic_store(&s.client, c);
    char *out = NULL;
    CHECK_OK(mcp_call(c, "logging/setLevel", "{\"level\":\"debug\"}", NULL, &out, &err), err);
    mcp_string_free(out);
    out = NULL;
    CHECK_OK(mcp_call_tool(c, "notify", "{\"text\":\"hello from C\"}", NULL, &out, &err), err);
    mcp_string_free(out);
    CHECK(wait_for(&s.messages_with_text, 1, 3000));
    CHECK(atomic_load(&s.reentrant_refused) >= 1);
    /* The options and the client both hold the callback: freed once, after both. */
    mcp_options_free(o);
    CHECK(atomic_load(&s.frees) == 0);
    mcp_client_free(c);
    CHECK(atomic_load(&s.frees) == 1);
}

static int32_t on_request(void *ud, const char *method, const char *params, char **result_out) {
    cb_state *s = ud;
    atomic_fetch_add(&s->notifications, 1);
    if (atomic_load(&s->client) != NULL && mcp_ping(atomic_load(&s->client), NULL, NULL) == MCP_RESULT_REENTRANT)
        atomic_fetch_add(&s->reentrant_refused, 1);
    if (strcmp(method, "elicitation/create") == 0 && h_contains(params, "Your name?")) {
        /* Made with the library's allocator, as every host should. */
        static const char answer[] = "{\"action\":\"accept\",\"content\":{\"name\":\"Grace\"}}";
        *result_out = mcp_string_new(answer, sizeof answer - 1);
        return 0;
    }
    *result_out = mcp_string_dup("not supported here");
    return -32601;
}

static void test_server_requests(void) {
    static cb_state s;
    memset(&s, 0, sizeof s);
    mcp_options *o = url_options();
    CHECK_OK(mcp_options_set_request_callback(o, MCP_CAPABILITY_ELICITATION, on_request, &s, count_free, NULL), NULL);
    mcp_client *c = NULL;
    mcp_error *err = NULL;
    CHECK_OK(mcp_client_new(o, NULL, &c, &err), err);
    mcp_options_free(o);
    atomic_store(&s.client, c);
    char *out = NULL;
    CHECK_OK(mcp_call_tool(c, "ask", "{\"message\":\"Your name?\"}", NULL, &out, &err), err);
    /* The answer, with the schema's defaults filled in by the library. */
    CHECK(h_contains(out, "Grace") && h_contains(out, "36"));
    mcp_string_free(out);
    out = NULL;
    /* A refusal becomes a JSON-RPC error the server reports in the tool's result. */
    CHECK_OK(mcp_call_tool(c, "list_roots", "{}", NULL, &out, &err), err);
    CHECK(h_contains(out, "not supported here"));
    mcp_string_free(out);
    CHECK(atomic_load(&s.reentrant_refused) >= 1);
    mcp_client_free(c);
    CHECK(atomic_load(&s.frees) == 1);
}

static atomic_int log_lines, log_frees;

static void on_log(void *ud, mcp_log_level level, const char *target, const char *message) {
    (void)ud;
    (void)message;
    if (level >= MCP_LOG_LEVEL_ERROR && level <= MCP_LOG_LEVEL_TRACE && h_contains(target, "mcp_client"))
        atomic_fetch_add(&log_lines, 1);
}

static void count_log_free(void *ud) {
    (void)ud;
    atomic_fetch_add(&log_frees, 1);
}

static void test_log_callback(void) {
    CHECK_OK(mcp_log_set_callback(MCP_LOG_LEVEL_DEBUG, on_log, NULL, count_log_free, NULL), NULL);
    mcp_client *c = connect_default();
    mcp_client_free(c);
    CHECK(atomic_load(&log_lines) > 0);
    CHECK_OK(mcp_log_set_callback(MCP_LOG_LEVEL_OFF, NULL, NULL, NULL, NULL), NULL);
    CHECK(atomic_load(&log_frees) == 1);
    int before = atomic_load(&log_lines);
    c = connect_default();
    mcp_client_free(c);
    CHECK(atomic_load(&log_lines) == before);
}

static void test_stdio(void) {
    const char *bin = getenv("MCP_TEST_SERVER");
    char line[512];
    snprintf(line, sizeof line, "'%s' --stdio", bin ? bin : "target/debug/mcp-test-server");
    mcp_options *o = mcp_options_new();
    CHECK_OK(mcp_options_set_stdio(o, line, NULL), NULL);
    mcp_client *c = NULL;
    mcp_error *err = NULL;
    CHECK_OK(mcp_client_new(o, NULL, &c, &err), err);
    char *out = NULL;
    CHECK_OK(mcp_server_info(c, &out, &err), err);
    CHECK(h_contains(out, "\"stdio\""));
    mcp_string_free(out);
    out = NULL;
    CHECK_OK(mcp_call_tool(c, "echo", "{\"text\":\"over stdio\"}", NULL, &out, &err), err);
    CHECK(h_contains(out, "over stdio"));
    mcp_string_free(out);
    CHECK_OK(mcp_close(c, NULL, &err), err);
    mcp_client_free(c);
    mcp_options_free(o);
}

/* ---- tasks ------------------------------------------------------------------------------ */

/* Copy the first `"taskId":"…"` of `json` into `id` (empty when there is none). */
static void task_id_of(const char *json, char *id, size_t cap) {
    id[0] = '\0';
    const char *p = json ? strstr(json, "\"taskId\":\"") : NULL;
    if (p == NULL) return;
    p += strlen("\"taskId\":\"");
    size_t n = 0;
    while (p[n] != '\0' && p[n] != '"' && n + 1 < cap) n++;
    memcpy(id, p, n);
    id[n] = '\0';
}

typedef struct {
    atomic_int progress; /* notifications/progress carrying the token "c-progress" */
    atomic_int last;     /* the last step seen */
} progress_state;

static void on_progress(void *ud, const char *method, const char *params) {
    progress_state *s = ud;
    if (strcmp(method, "notifications/progress") != 0 || !h_contains(params, "\"progressToken\":\"c-progress\""))
        return;
    const char *p = strstr(params, "\"progress\":");
    if (p != NULL) atomic_store(&s->last, atoi(p + strlen("\"progress\":")));
    atomic_fetch_add(&s->progress, 1);
}

/* A progress token in the call options: a tool run as a task reports each step under it. */
static void test_progress_token(void) {
    static const char *const tasks_args[] = {"--tasks", NULL};
    h_server ts;
    if (h_server_start(&ts, tasks_args) != 0) {
        CHECK(!"cannot start the test server with --tasks");
        return;
    }
    static progress_state s;
    memset(&s, 0, sizeof s);
    mcp_options *o = mcp_options_new();
    CHECK_OK(mcp_options_set_url(o, ts.url, NULL), NULL);
    CHECK_OK(mcp_options_set_notification_callback(o, on_progress, &s, NULL, NULL), NULL);
    mcp_client *c = NULL;
    mcp_error *err = NULL;
    CHECK_OK(mcp_client_new(o, NULL, &c, &err), err);
    mcp_call_options *co = mcp_call_options_new();
    CHECK_OK(mcp_call_options_set_progress_token(co, "c-progress"), NULL);
    char *out = NULL;
    CHECK_OK(mcp_call_tool(c, "report", "{\"ms\":100}", co, &out, &err), err);
    CHECK(h_contains(out, "report ready after 100 ms"));
    mcp_string_free(out);
    out = NULL;
    CHECK(wait_for(&s.progress, 4, 3000));
    CHECK(atomic_load(&s.last) == 4);

    /* Cleared: the next call asks for no progress. */
    CHECK_OK(mcp_call_options_set_progress_token(co, NULL), NULL);
    CHECK_OK(mcp_call_tool(c, "report", "{\"ms\":40}", co, &out, &err), err);
    mcp_string_free(out);
    h_sleep_ms(100);
    CHECK(atomic_load(&s.progress) == 4);

    const char bad_utf8[] = {'p', (char)0xc3, (char)0x28, 0};
    CHECK_RC(mcp_call_options_set_progress_token(NULL, "x"), MCP_RESULT_NULL_ARGUMENT, NULL);
    CHECK_RC(mcp_call_options_set_progress_token(co, bad_utf8), MCP_RESULT_INVALID_UTF8, NULL);
    mcp_call_options_free(co);
    mcp_client_free(c);
    mcp_options_free(o);
    h_server_stop(&ts);
}

/* The explicit task calls against a server with tasks on (--tasks): start, poll, result,
 * cancel, list, their argument errors, and mcp_call_tool on a tool that requires a task. */
static void test_tasks(void) {
    static const char *const tasks_args[] = {"--tasks", NULL};
    h_server ts;
    if (h_server_start(&ts, tasks_args) != 0) {
        CHECK(!"cannot start the test server with --tasks");
        return;
    }
    mcp_options *o = mcp_options_new();
    CHECK_OK(mcp_options_set_url(o, ts.url, NULL), NULL);
    mcp_client *c = NULL;
    mcp_error *err = NULL;
    CHECK_OK(mcp_client_new(o, NULL, &c, &err), err);
    mcp_error_free(err);
    err = NULL;
    char *out = NULL;
    char id[128], id2[128], id3[128];

    /* Start: the task comes back at once (before the tool's second of work), working, with
     * the ttl asked for. */
    double t0 = h_now();
    CHECK_OK(mcp_task_start(c, "report", "{\"ms\":1000}", 60000, NULL, &out, &err), err);
    CHECK(h_contains(out, "\"status\":\"working\""));
    CHECK(h_contains(out, "\"ttl\":60000"));
    CHECK(h_contains(out, "\"pollInterval\":"));
    task_id_of(out, id, sizeof id);
    CHECK(id[0] != '\0');
    mcp_string_free(out);
    out = NULL;

    /* Poll its status. */
    CHECK_OK(mcp_task_status(c, id, NULL, &out, &err), err);
    CHECK(h_contains(out, id));
    CHECK(h_contains(out, "\"status\":\"working\""));
    mcp_string_free(out);
    out = NULL;

    /* The result waits for the end: the tool's CallToolResult. */
    CHECK_OK(mcp_task_result(c, id, NULL, &out, &err), err);
    CHECK(h_contains(out, "report ready after 1000 ms"));
    CHECK(h_now() - t0 >= 0.95);
    mcp_string_free(out);
    out = NULL;
    CHECK_OK(mcp_task_status(c, id, NULL, &out, &err), err);
    CHECK(h_contains(out, "\"status\":\"completed\""));
    mcp_string_free(out);
    out = NULL;
    /* An ended task cannot be cancelled: the server's -32602. */
    CHECK_RC(mcp_task_cancel(c, id, NULL, &out, &err), MCP_RESULT_RPC, err);
    int64_t code = 0;
    CHECK(err != NULL && mcp_error_rpc_code(err, &code) && code == -32602);
    mcp_error_free(err);
    err = NULL;

    /* A long task, arguments NULL ({}: the default 200 ms) for the other. */
    CHECK_OK(mcp_task_start(c, "report", "{\"ms\":20000}", 0, NULL, &out, &err), err);
    task_id_of(out, id2, sizeof id2);
    CHECK(id2[0] != '\0');
    mcp_string_free(out);
    out = NULL;
    CHECK_OK(mcp_task_start(c, "report", NULL, 0, NULL, &out, &err), err);
    task_id_of(out, id3, sizeof id3);
    mcp_string_free(out);
    out = NULL;
    CHECK_OK(mcp_task_result(c, id3, NULL, &out, &err), err);
    CHECK(h_contains(out, "report ready after 200 ms"));
    mcp_string_free(out);
    out = NULL;

    /* The call's timeout bounds the wait for a result; the task keeps running. */
    mcp_call_options *shorter = mcp_call_options_new();
    CHECK_OK(mcp_call_options_set_timeout_ms(shorter, 200), NULL);
    t0 = h_now();
    CHECK_RC(mcp_task_result(c, id2, shorter, &out, &err), MCP_RESULT_TIMEOUT, err);
    CHECK(h_now() - t0 < 2.0);
    mcp_error_free(err);
    err = NULL;
    CHECK(out == NULL);
    /* So does its cancellation. */
    mcp_call_options *cancelled = mcp_call_options_new();
    CHECK_OK(mcp_call_options_cancel(cancelled), NULL);
    CHECK_RC(mcp_task_result(c, id2, cancelled, &out, NULL), MCP_RESULT_CANCELLED, NULL);
    CHECK_RC(mcp_task_list(c, cancelled, &out, NULL), MCP_RESULT_CANCELLED, NULL);
    CHECK(out == NULL);
    CHECK_OK(mcp_task_status(c, id2, shorter, &out, &err), err);
    CHECK(h_contains(out, "\"status\":\"working\""));
    mcp_string_free(out);
    out = NULL;

    /* Cancel it. */
    CHECK_OK(mcp_task_cancel(c, id2, NULL, &out, &err), err);
    CHECK(h_contains(out, id2));
    CHECK(h_contains(out, "\"status\":\"cancelled\""));
    mcp_string_free(out);
    out = NULL;
    CHECK_OK(mcp_task_status(c, id2, NULL, &out, &err), err);
    CHECK(h_contains(out, "\"status\":\"cancelled\""));
    mcp_string_free(out);
    out = NULL;

    /* List: every task of this client, as an array. */
    CHECK_OK(mcp_task_list(c, NULL, &out, &err), err);
    CHECK(out != NULL && out[0] == '[');
    CHECK(h_contains(out, id) && h_contains(out, id2) && h_contains(out, id3));
    mcp_string_free(out);
    out = NULL;

    /* An unknown task is the server's error. */
    CHECK_RC(mcp_task_status(c, "no-such-task", NULL, &out, &err), MCP_RESULT_RPC, err);
    mcp_error_free(err);
    err = NULL;

    /* mcp_call_tool runs a tool that requires a task as one and returns its final result. */
    CHECK_OK(mcp_call_tool(c, "report", "{\"ms\":100}", NULL, &out, &err), err);
    CHECK(h_contains(out, "report ready after 100 ms"));
    CHECK(!h_contains(out, "\"task\""));
    mcp_string_free(out);
    out = NULL;

    /* A tool listed as forbidden is not started as a task. */
    CHECK_OK(mcp_list_tools(c, NULL, &out, &err), err);
    mcp_string_free(out);
    out = NULL;
    CHECK_RC(mcp_task_start(c, "quick", NULL, 0, NULL, &out, &err), MCP_RESULT_INVALID_ARGUMENT, err);
    CHECK(err != NULL && h_contains(mcp_error_message(err), "quick"));
    mcp_error_free(err);
    err = NULL;

    /* Argument errors; no out-parameter is written. */
    const char bad_utf8[] = {'r', (char)0xc3, (char)0x28, 0};
    char *const untouched = (char *)"untouched";
    out = untouched;
    CHECK_RC(mcp_task_start(NULL, "report", NULL, 0, NULL, &out, NULL), MCP_RESULT_NULL_ARGUMENT, NULL);
    CHECK_RC(mcp_task_start(c, NULL, NULL, 0, NULL, &out, NULL), MCP_RESULT_NULL_ARGUMENT, NULL);
    CHECK_RC(mcp_task_start(c, "report", NULL, 0, NULL, NULL, NULL), MCP_RESULT_NULL_ARGUMENT, NULL);
    CHECK_RC(mcp_task_start(c, bad_utf8, NULL, 0, NULL, &out, NULL), MCP_RESULT_INVALID_UTF8, NULL);
    CHECK_RC(mcp_task_start(c, "report", "{\"ms\":", 0, NULL, &out, NULL), MCP_RESULT_INVALID_JSON, NULL);
    CHECK_RC(mcp_task_start(c, "report", "[1]", 0, NULL, &out, NULL), MCP_RESULT_INVALID_ARGUMENT, NULL);
    CHECK_RC(mcp_task_status(NULL, id, NULL, &out, NULL), MCP_RESULT_NULL_ARGUMENT, NULL);
    CHECK_RC(mcp_task_status(c, NULL, NULL, &out, &err), MCP_RESULT_NULL_ARGUMENT, err);
    CHECK(err != NULL && h_contains(mcp_error_message(err), "task_id"));
    mcp_error_free(err);
    err = NULL;
    CHECK_RC(mcp_task_status(c, id, NULL, NULL, NULL), MCP_RESULT_NULL_ARGUMENT, NULL);
    CHECK_RC(mcp_task_status(c, bad_utf8, NULL, &out, NULL), MCP_RESULT_INVALID_UTF8, NULL);
    CHECK_RC(mcp_task_result(NULL, id, NULL, &out, NULL), MCP_RESULT_NULL_ARGUMENT, NULL);
    CHECK_RC(mcp_task_result(c, NULL, NULL, &out, NULL), MCP_RESULT_NULL_ARGUMENT, NULL);
    CHECK_RC(mcp_task_result(c, id, NULL, NULL, NULL), MCP_RESULT_NULL_ARGUMENT, NULL);
    CHECK_RC(mcp_task_cancel(NULL, id, NULL, &out, NULL), MCP_RESULT_NULL_ARGUMENT, NULL);
    CHECK_RC(mcp_task_cancel(c, NULL, NULL, &out, NULL), MCP_RESULT_NULL_ARGUMENT, NULL);
    CHECK_RC(mcp_task_cancel(c, id, NULL, NULL, NULL), MCP_RESULT_NULL_ARGUMENT, NULL);
    CHECK_RC(mcp_task_list(NULL, NULL, &out, NULL), MCP_RESULT_NULL_ARGUMENT, NULL);
    CHECK_RC(mcp_task_list(c, NULL, NULL, NULL), MCP_RESULT_NULL_ARGUMENT, NULL);
    CHECK(out == untouched);
    out = NULL;

    /* A client not connected yet. */
    mcp_client *unconnected = NULL;
    CHECK_OK(mcp_client_create(o, &unconnected, NULL), NULL);
    CHECK_RC(mcp_task_list(unconnected, NULL, &out, NULL), MCP_RESULT_NOT_CONNECTED, NULL);
    mcp_client_free(unconnected);
    mcp_options_free(o);
    mcp_call_options_free(shorter);
    mcp_call_options_free(cancelled);
    mcp_client_free(c);

    /* A server without tasks: nothing is started as a task. */
    mcp_client *plain = connect_default();
    CHECK_RC(mcp_task_start(plain, "echo", NULL, 0, NULL, &out, &err), MCP_RESULT_INVALID_ARGUMENT, err);
    mcp_error_free(err);
    mcp_client_free(plain);
    h_server_stop(&ts);
}

int main(int argc, char **argv) {
    if (h_server_start(&server, NULL) != 0) return 2;
    static const h_test tests[] = {
        {"version", test_version},
        {"free_null_and_twice", test_free_null_and_twice},
        {"option_errors", test_option_errors},
        {"setter_messages_and_implied_modes", test_setter_messages_and_implied_modes},
        {"call_argument_errors", test_call_argument_errors},
        {"tools_json", test_tools_json},
        {"list_tools", test_list_tools},
        {"resources_prompts_ping", test_resources_prompts_ping},
        {"close", test_close},
        {"create_then_connect", test_create_then_connect},
        {"connect_failure", test_connect_failure},
        {"bearer_and_headers", test_bearer_and_headers},
        {"concurrent_threads", test_concurrent_threads},
        {"cancel_from_another_thread", test_cancel_from_another_thread},
        {"timeouts", test_timeouts},
        {"per_call_cancellation", test_per_call_cancellation},
        {"notifications_and_user_data_free", test_notifications_and_user_data_free},
        {"progress_token", test_progress_token},
        {"server_requests", test_server_requests},
        {"log_callback", test_log_callback},
        {"stdio", test_stdio},
        {"tasks", test_tasks},
    };
    int rc = h_run(tests, sizeof tests / sizeof tests[0], argc, argv);
    h_server_stop(&server);
    return rc;
}
