/* Connect to an MCP server, list its tools, call one, print the JSON.
 *
 *   ./mcp_example URL [TOOL [ARGUMENTS_JSON]] [--oauth]
 *   ./mcp_example http://127.0.0.1:8080/mcp echo '{"text":"hello"}'
 *
 * With --oauth the client signs in when the server asks: the system browser opens at the
 * authorization page and the library's loopback listener receives the redirect; tokens are
 * kept in the OS keyring (or a private file) for the next run.
 *
 * Build: see the Makefile beside this file. */
#include <stdio.h>
#include <string.h>

#include "mcp_client.h"

static int fail(const char *what, mcp_result rc, mcp_error *err) {
    fprintf(stderr, "%s failed: %s: %s\n", what, mcp_result_str(rc),
            err ? mcp_error_message(err) : "");
    if (err && mcp_error_oauth_error(err))
        fprintf(stderr, "  OAuth error: %s\n", mcp_error_oauth_error(err));
    mcp_error_free(err);
    return 1;
}

int main(int argc, char **argv) {
    const char *url = NULL, *tool = "echo", *args = "{\"text\":\"hello from C\"}";
    int oauth = 0, positional = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--oauth") == 0) oauth = 1;
        else if (positional == 0) url = argv[i], positional++;
        else if (positional == 1) tool = argv[i], positional++;
        else args = argv[i];
    }
    if (url == NULL) {
        fprintf(stderr, "usage: %s URL [TOOL [ARGUMENTS_JSON]] [--oauth]\n", argv[0]);
        return 2;
    }

    mcp_options *options = mcp_options_new();
    mcp_options_set_client_info(options, "mcp-example", "1.0", NULL);
    mcp_result rc = mcp_options_set_url(options, url, NULL);
    if (rc != MCP_RESULT_OK) {
        mcp_options_free(options);
        return fail("mcp_options_set_url", rc, NULL);
    }
    if (oauth) mcp_options_set_auth(options, MCP_AUTH_MODE_OAUTH, NULL);

    mcp_client *client = NULL;
    mcp_error *err = NULL;
    rc = mcp_client_new(options, NULL, &client, &err);
    mcp_options_free(options); /* the client keeps what it needs */
    if (rc != MCP_RESULT_OK) return fail("connect", rc, err);

    int status = 0;
    char *json = NULL;
    rc = mcp_list_tools(client, NULL, &json, &err);
    if (rc == MCP_RESULT_OK) {
        printf("tools: %s\n", json);
        mcp_string_free(json);
        json = NULL;
    } else {
        status = fail("mcp_list_tools", rc, err);
        err = NULL;
    }

    rc = mcp_call_tool(client, tool, args, NULL, &json, &err);
    if (rc == MCP_RESULT_OK) {
        printf("%s: %s\n", tool, json);
        mcp_string_free(json);
    } else {
        status = fail("mcp_call_tool", rc, err);
        err = NULL;
    }

    mcp_close(client, NULL, NULL); /* ends the session */
    mcp_client_free(client);
    return status;
}
