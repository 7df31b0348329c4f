// The header compiles as C++ (g++ -std=c++17 -Wall -Wextra -Werror), included twice.
#include "mcp_client.h"
#include "mcp_client.h"

#include <cstdio>
#include <cstring>

static int32_t on_request(void *, const char *, const char *, char **) { return -32601; }

int main() {
    const char *v = mcp_version();
    mcp_result rc = MCP_RESULT_OK;
    mcp_options *o = mcp_options_new();
    rc = mcp_options_set_auth(o, MCP_AUTH_MODE_NONE, NULL);
    mcp_request_fn cb = on_request;
    if (rc == MCP_RESULT_OK) rc = mcp_options_set_request_callback(o, MCP_CAPABILITY_ROOTS, cb, nullptr, nullptr, NULL);
    mcp_client *c = nullptr;
    mcp_error *err = nullptr;
    // No server set: refused, with details.
    mcp_result made = mcp_client_new(o, NULL, &c, &err);
    std::printf("mcp-client %s (header %d.%d.%d): %s\n", v, MCP_VERSION_MAJOR, MCP_VERSION_MINOR,
                MCP_VERSION_PATCH, mcp_error_message(err));
    mcp_error_free(err);
    mcp_options_free(o);
    return (rc == MCP_RESULT_OK && made == MCP_RESULT_INVALID_ARGUMENT && c == nullptr) ? 0 : 1;
}
