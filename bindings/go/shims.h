/* C trampolines with the exact signatures of the library's callback types (const char *),
 * each forwarding to the Go function exported by callbacks.go. Go cannot spell `const`, so
 * the exported functions take `char *` and these shims sit in between (defined in shims.c,
 * since a Go file with //export may only declare C functions in its preamble). */
#ifndef MCPGO_SHIMS_H
#define MCPGO_SHIMS_H

#include <stdint.h>
#include "mcp_client.h"

int32_t mcpgo_present(void *ud, const char *url, const char *redirect_uri, char **redirect_out);
int32_t mcpgo_device_code(void *ud, const char *uri, const char *complete, const char *code,
                          uint64_t expires_in);
void mcpgo_notification(void *ud, const char *method, const char *params);
void mcpgo_auth_event(void *ud, const char *event_json);
int32_t mcpgo_request(void *ud, const char *method, const char *params, char **result_out);
int32_t mcpgo_store_load(void *ud, const char *key, char **value_out);
int32_t mcpgo_store_save(void *ud, const char *key, const char *value);
int32_t mcpgo_store_remove(void *ud, const char *key);
void mcpgo_log(void *ud, mcp_log_level level, const char *target, const char *message);
void mcpgo_free(void *ud);

#endif
