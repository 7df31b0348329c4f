/* See shims.h. */
#include "shims.h"
#include "_cgo_export.h"

int32_t mcpgo_present(void *ud, const char *url, const char *redirect_uri, char **redirect_out) {
    return mcpgoPresent(ud, (char *)url, (char *)redirect_uri, redirect_out);
}

int32_t mcpgo_device_code(void *ud, const char *uri, const char *complete, const char *code,
                          uint64_t expires_in) {
    return mcpgoDeviceCode(ud, (char *)uri, (char *)complete, (char *)code, expires_in);
}

void mcpgo_notification(void *ud, const char *method, const char *params) {
    mcpgoNotification(ud, (char *)method, (char *)params);
}

void mcpgo_auth_event(void *ud, const char *event_json) {
    mcpgoAuthEvent(ud, (char *)event_json);
}

int32_t mcpgo_request(void *ud, const char *method, const char *params, char **result_out) {
    return mcpgoRequest(ud, (char *)method, (char *)params, result_out);
}

int32_t mcpgo_store_load(void *ud, const char *key, char **value_out) {
    return mcpgoStoreLoad(ud, (char *)key, value_out);
}

int32_t mcpgo_store_save(void *ud, const char *key, const char *value) {
    return mcpgoStoreSave(ud, (char *)key, (char *)value);
}

int32_t mcpgo_store_remove(void *ud, const char *key) {
    return mcpgoStoreRemove(ud, (char *)key);
}

void mcpgo_log(void *ud, mcp_log_level level, const char *target, const char *message) {
    mcpgoLog(ud, (int32_t)level, (char *)target, (char *)message);
}

void mcpgo_free(void *ud) {
    mcpgoFree(ud);
}
