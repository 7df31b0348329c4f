/*
 * mcp_client.h: the C ABI of mcp-client, a Model Context Protocol client with complete
 * OAuth 2.1 authorization (Streamable HTTP, HTTP+SSE and stdio transports).
 *
 * Link with -lmcp_client (see the README, or `pkg-config --cflags --libs mcp_client`).
 * While the version is 0.x there is no ABI promise between minor versions.
 *
 * Minimal use:
 *
 *     mcp_options *o = mcp_options_new();
 *     mcp_options_set_url(o, "http://127.0.0.1:8080/mcp", NULL);
 *     mcp_client *c = NULL;
 *     mcp_error *err = NULL;
 *     if (mcp_client_new(o, NULL, &c, &err) != MCP_RESULT_OK) {
 *         fprintf(stderr, "%s\n", mcp_error_message(err));
 *         mcp_error_free(err);
 *     } else {
 *         char *result = NULL;
 *         if (mcp_call_tool(c, "echo", "{\"text\":\"hi\"}", NULL, &result, NULL) == MCP_RESULT_OK)
 *             puts(result);
 *         mcp_string_free(result);
 *         mcp_close(c, NULL, NULL);
 *         mcp_client_free(c);
 *     }
 *     mcp_options_free(o);
 *
 * LIFECYCLE
 *   1. Options: mcp_options_new, then mcp_options_set_* (the server, authorization,
 *      timeouts, callbacks). A client copies what it needs: free the options any time after.
 *   2. Client: mcp_client_new makes and connects one (or mcp_client_create, then sign in
 *      with mcp_authorize*, then mcp_connect).
 *   3. Calls: mcp_call_tool, mcp_list_tools, mcp_read_resource, mcp_get_prompt, mcp_call
 *      (any method), each with optional mcp_call_options (a timeout, a cancel handle).
 *      Tasks: mcp_task_start, then mcp_task_status, mcp_task_result, mcp_task_cancel,
 *      mcp_task_list (mcp_call_tool runs a tool that requires a task as one, and waits).
 *   4. End: mcp_close ends the session; mcp_client_free frees the client.
 *   Who frees what: options with mcp_options_free, clients with mcp_client_free, call
 *   options with mcp_call_options_free, errors with mcp_error_free, strings the library
 *   returns with mcp_string_free.
 *
 * THREAD SAFETY
 *   An mcp_client is safe to use from many threads at once; they share its session.
 *   mcp_client_free only after every call on that client has returned. mcp_options are set
 *   by one thread at a time; a client copies what it needs from them.
 *   A request (mcp_call, mcp_call_tool, mcp_list_*, mcp_read_resource, mcp_get_prompt,
 *   mcp_ping, mcp_task_*) does its I/O on the calling thread, over connections that thread
 *   keeps for the client (idle ones close when the thread next calls or exits). Connect,
 *   authorize, logout and close run on the library's process-wide runtime while the calling
 *   thread waits; so do notifications, server requests and timers, between calls as during
 *   them.
 *   A blocking call made from inside a callback,
 *   or from a library thread, fails at once with MCP_RESULT_REENTRANT instead of
 *   deadlocking. mcp_cancel, the accessors and the _free functions never block (except that
 *   mcp_client_free waits for the client's callbacks running on other threads to return).
 *
 * OWNERSHIP
 *   Strings passed in are UTF-8, borrowed for the call only: the library copies what it
 *   keeps. Strings the library returns through out-parameters belong to the caller, who
 *   frees them with mcp_string_free (never with free()). Strings returned as
 *   `const char *` (mcp_version, mcp_result_str, the mcp_error accessors) are not freed:
 *   they live for the process, or as long as their mcp_error. Every _free accepts NULL, and
 *   a second free of the same mcp_client, mcp_options or mcp_error pointer is detected and
 *   ignored. MCP payloads (params, arguments, results, notifications) cross as JSON text.
 *
 * ERRORS
 *   Every fallible call returns an mcp_result (MCP_RESULT_OK is 0) and takes an optional
 *   `mcp_error **error_out` (NULL: no details). On failure, *error_out receives an error to
 *   free with mcp_error_free (initialise it to NULL; it is not touched on success). Other
 *   out-parameters are written only on success. A NULL required pointer is
 *   MCP_RESULT_NULL_ARGUMENT, a string that is not UTF-8 MCP_RESULT_INVALID_UTF8, JSON that
 *   does not parse MCP_RESULT_INVALID_JSON. Codes are grouped by range and never renumbered;
 *   mcp_result_str describes one. No call panics across the boundary: a bug inside the
 *   library is MCP_RESULT_PANIC. There is no thread-local "last error".
 *
 * CALLBACKS
 *   Each callback is registered with a `void *user_data`, passed back as its first argument,
 *   and an optional `user_data_free`, run exactly once, on any thread, when the library no
 *   longer needs the user data: when the options are freed (or the callback replaced), every
 *   client made from them has been freed, and no call of the callback is still running. No
 *   callback of a client starts after mcp_client_free begins, and mcp_client_free waits for
 *   those running on other threads. Pointers passed to a callback are valid only during
 *   that call: copy what you keep. Strings a callback hands back (redirect, store entry,
 *   request result) are made with mcp_string_dup or mcp_string_new, the library's own
 *   allocator, which frees them after taking them (where the host shares the library's C
 *   runtime, as on Linux, malloc'd strings such as strdup's or Go's C.CString also do).
 *   The user data must be usable from any thread.
 *   Threads:
 *   - notification callback: a library runtime thread, one notification at a time, in the
 *     order they arrived; return quickly (hand long work to a thread of your own);
 *   - server-request callback: a library thread that may block (waiting for the user is
 *     fine); several requests may be answered at once on different threads;
 *   - presenter (authorization URL) callback: a library thread that may block; it runs
 *     while a blocking call (mcp_client_new, mcp_connect, mcp_authorize, a request that got
 *     a 401) waits for the sign-in;
 *   - store callbacks: the thread of the blocking call that needs credentials, or a
 *     library thread; keep them short;
 *   - log callback: whichever thread logs (the caller's during a blocking call, or a
 *     library thread); return quickly;
 *   - authorization event callback: the thread doing the authorization step (the caller's
 *     during a blocking call, or a library thread); return quickly.
 *   Blocking library calls from any callback fail with MCP_RESULT_REENTRANT; mcp_cancel and
 *   mcp_call_options_cancel are allowed.
 *
 * TIMEOUTS AND CANCELLATION
 *   Every blocking call takes `const mcp_call_options *call_options` (NULL: the client's
 *   defaults): a timeout for that call (mcp_call_options_set_timeout_ms) and a cancellation
 *   handle that any thread or callback triggers with mcp_call_options_cancel; it ends only
 *   the calls made with those options, with MCP_RESULT_CANCELLED, and tells the server where
 *   the protocol allows. mcp_cancel ends every call of a client in flight.
 */


#ifndef MCP_CLIENT_H
#define MCP_CLIENT_H

/* Generated by cbindgen from capi/ (see capi/cbindgen.toml); do not edit by hand. */

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

// The major version of the library this header belongs to.
#define MCP_VERSION_MAJOR 0

// The minor version.
#define MCP_VERSION_MINOR 1

// The patch version.
#define MCP_VERSION_PATCH 0

// `mcp_options_set_request_callback`: also answer `elicitation/create` (and declare the
// `elicitation` capability).
#define MCP_CAPABILITY_ELICITATION 1

// Also answer `sampling/createMessage` (and declare `sampling`).
#define MCP_CAPABILITY_SAMPLING 2

// Also answer `roots/list` (and declare `roots`).
#define MCP_CAPABILITY_ROOTS 4

// The result of every fallible call. Codes are grouped by range and never renumbered:
// 0 success; 100-199 bad arguments; 200-299 transport; 300-399 protocol; 400-499 JSON-RPC
// errors from the server; 500-599 timeouts and cancellation; 600-699 authorization;
// 700-799 the client's state; 900-999 bugs.
enum mcp_result
#if defined(__cplusplus) || __STDC_VERSION__ >= 202311L
  : int32_t
#endif // defined(__cplusplus) || __STDC_VERSION__ >= 202311L
 {
  // Success.
  MCP_RESULT_OK = 0,
  // A required pointer argument was NULL.
  MCP_RESULT_NULL_ARGUMENT = 100,
  // A string argument was not valid UTF-8.
  MCP_RESULT_INVALID_UTF8 = 101,
  // An argument or the configuration is invalid (a bad URL, a non-object where a JSON
  // object is required, an OAuth call on a client without OAuth).
  MCP_RESULT_INVALID_ARGUMENT = 102,
  // A JSON argument does not parse.
  MCP_RESULT_INVALID_JSON = 103,
  // The server could not be reached, or the connection or the stdio process failed.
  MCP_RESULT_TRANSPORT = 200,
  // The server broke the HTTP, SSE or JSON-RPC contract (or no common protocol version).
  MCP_RESULT_PROTOCOL = 300,
  // The server answered with a JSON-RPC error: see `mcp_error_rpc_code`.
  MCP_RESULT_RPC = 400,
  // The request did not complete in time.
  MCP_RESULT_TIMEOUT = 500,
  // The request was cancelled with `mcp_cancel`.
  MCP_RESULT_CANCELLED = 501,
  // Authorization is needed or failed: see `mcp_error_oauth_error`.
  MCP_RESULT_AUTH = 600,
  // The client was closed.
  MCP_RESULT_CLOSED = 700,
  // A blocking call was made from inside a callback or a runtime thread.
  MCP_RESULT_REENTRANT = 701,
  // The call needs a connected client (see `mcp_client_create` and `mcp_connect`).
  MCP_RESULT_NOT_CONNECTED = 702,
  // A panic inside the library was caught at the boundary (a bug: please report it).
  MCP_RESULT_PANIC = 900,
  // An unexpected condition inside the library (a bug: please report it).
  MCP_RESULT_INTERNAL = 901,
};
#ifndef __cplusplus
#if __STDC_VERSION__ >= 202311L
typedef enum mcp_result mcp_result;
#else
typedef int32_t mcp_result;
#endif // __STDC_VERSION__ >= 202311L
#endif // __cplusplus

// A log level.
enum mcp_log_level
#if defined(__cplusplus) || __STDC_VERSION__ >= 202311L
  : int32_t
#endif // defined(__cplusplus) || __STDC_VERSION__ >= 202311L
 {
  // Nothing.
  MCP_LOG_LEVEL_OFF = 0,
  // Errors.
  MCP_LOG_LEVEL_ERROR = 1,
  // Warnings and above.
  MCP_LOG_LEVEL_WARN = 2,
  // Information and above.
  MCP_LOG_LEVEL_INFO = 3,
  // Debugging and above.
  MCP_LOG_LEVEL_DEBUG = 4,
  // Everything.
  MCP_LOG_LEVEL_TRACE = 5,
};
#ifndef __cplusplus
#if __STDC_VERSION__ >= 202311L
typedef enum mcp_log_level mcp_log_level;
#else
typedef int32_t mcp_log_level;
#endif // __STDC_VERSION__ >= 202311L
#endif // __cplusplus

// How requests are authorized (`mcp_options_set_auth`).
enum mcp_auth_mode
#if defined(__cplusplus) || __STDC_VERSION__ >= 202311L
  : int32_t
#endif // defined(__cplusplus) || __STDC_VERSION__ >= 202311L
 {
  // No credentials (the default); a server that answers 401 fails with `MCP_RESULT_AUTH`.
  MCP_AUTH_MODE_NONE = 0,
  // A fixed bearer token (`mcp_options_set_bearer_token`).
  MCP_AUTH_MODE_BEARER = 1,
  // The OAuth engine: on a 401 it discovers, registers and signs in, then keeps the tokens
  // fresh and stored.
  MCP_AUTH_MODE_OAUTH = 2,
};
#ifndef __cplusplus
#if __STDC_VERSION__ >= 202311L
typedef enum mcp_auth_mode mcp_auth_mode;
#else
typedef int32_t mcp_auth_mode;
#endif // __STDC_VERSION__ >= 202311L
#endif // __cplusplus

// How OAuth tokens are obtained (`mcp_options_set_grant`).
enum mcp_grant
#if defined(__cplusplus) || __STDC_VERSION__ >= 202311L
  : int32_t
#endif // defined(__cplusplus) || __STDC_VERSION__ >= 202311L
 {
  // Authorization code with PKCE through the user's browser (the default).
  MCP_GRANT_AUTHORIZATION_CODE = 0,
  // `client_credentials`: the client acts on its own behalf (needs a pre-registered client
  // with a secret, or a private key).
  MCP_GRANT_CLIENT_CREDENTIALS = 1,
  // The device authorization grant (RFC 8628): a code the user enters on another device.
  MCP_GRANT_DEVICE_CODE = 2,
  // RFC 7523 jwt-bearer with an assertion the host holds (e.g. a workload identity token).
  MCP_GRANT_JWT_BEARER = 3,
};
#ifndef __cplusplus
#if __STDC_VERSION__ >= 202311L
typedef enum mcp_grant mcp_grant;
#else
typedef int32_t mcp_grant;
#endif // __STDC_VERSION__ >= 202311L
#endif // __cplusplus

// Where OAuth credentials are kept between runs (`mcp_options_set_store`). The environment
// variable `MCP_CLIENT_STORE` (`keyring`, `kernel-keyring`, `file`, `file:<dir>`, `memory`)
// overrides the choice, except custom stores (a host that supplies its store means it).
enum mcp_store_kind
#if defined(__cplusplus) || __STDC_VERSION__ >= 202311L
  : int32_t
#endif // defined(__cplusplus) || __STDC_VERSION__ >= 202311L
 {
  // The OS keyring, else a private file with one warning (the default).
  MCP_STORE_KIND_AUTO = 0,
  // The OS keyring only.
  MCP_STORE_KIND_KEYRING = 1,
  // The Linux kernel keyring (secrets last until logout or reboot).
  MCP_STORE_KIND_KERNEL_KEYRING = 2,
  // A private file (mode 0600) in a directory.
  MCP_STORE_KIND_FILE = 3,
  // Memory only: nothing outlives the process.
  MCP_STORE_KIND_MEMORY = 4,
};
#ifndef __cplusplus
#if __STDC_VERSION__ >= 202311L
typedef enum mcp_store_kind mcp_store_kind;
#else
typedef int32_t mcp_store_kind;
#endif // __STDC_VERSION__ >= 202311L
#endif // __cplusplus

// Options for one call: a timeout, and a cancellation handle any thread (or a callback) can
// trigger with `mcp_call_options_cancel`. Pass the same options to the call they govern;
// NULL instead means the client's defaults. Free them after the calls using them returned.
typedef struct mcp_call_options mcp_call_options;

// A client of one MCP server. Safe to use from many threads at once (requests are
// multiplexed); `mcp_client_free` only after every call on it has returned.
typedef struct mcp_client mcp_client;

// The details of a failure: its code, a message, and, where they apply, the OAuth `error`
// and `error_description`, the JSON-RPC error code and data, the HTTP status. Owned by the
// caller; freed with `mcp_error_free`. Strings read from it live as long as it does.
typedef struct mcp_error mcp_error;

// Options to make a client from: the server, authorization, timeouts and callbacks. Made by
// `mcp_options_new`, freed by `mcp_options_free`; one thread at a time may set options. A
// client copies what it needs: the options may be changed, reused or freed afterwards.
typedef struct mcp_options mcp_options;

// Loads the entry for `key`: return 0 and set `*value_out` to a copy of the entry made with
// `mcp_string_dup` (the library frees it), or leave it NULL when there is none; return
// non-zero on failure.
typedef int32_t (*mcp_store_load_fn)(void *user_data,
                                     const char *key,
                                     char **value_out);

// Replaces the entry for `key` with `value` (copy it); 0 on success.
typedef int32_t (*mcp_store_save_fn)(void *user_data,
                                     const char *key,
                                     const char *value);

// Removes the entry for `key` (absent is fine); 0 on success.
typedef int32_t (*mcp_store_remove_fn)(void *user_data,
                                       const char *key);

// Frees the user data given with a callback; runs exactly once, on any thread, when the
// library no longer needs the user data.
typedef void (*mcp_free_fn)(void *user_data);

// Shows the authorization URL to the user. Return 0 once it is shown. To hand back the
// redirect yourself, set `*redirect_out` to the full redirect URL (the URL the browser was
// sent to, with `code` and `state`) in a string made with `mcp_string_dup` (the library
// frees it); leave it NULL to let the built-in loopback listener at
// `redirect_uri` receive the redirect (it starts listening when the callback returns, so do
// not block waiting for the browser). A non-zero return fails the authorization with
// `MCP_RESULT_AUTH`.
typedef int32_t (*mcp_presenter_fn)(void *user_data,
                                    const char *url,
                                    const char *redirect_uri,
                                    char **redirect_out);

// Receives one server notification: its method and its params as JSON text (`null` when
// absent).
typedef void (*mcp_notification_fn)(void *user_data,
                                    const char *method,
                                    const char *params_json);

// Receives one authorization event as a JSON object whose `event` member names it:
// `sign_in_required`, `browser_opened`, `signed_in`, `token_refreshed`, `token_adopted`,
// `step_up`, `refresh_failed`, `store_selected`, `logged_out` (more may come; ignore the
// others). Its other members are the server, issuer, scopes, expiry, grant or store; never a
// token, code or secret. For a host to show what authorization is doing.
typedef void (*mcp_auth_event_fn)(void *user_data,
                                  const char *event_json);

// Shows a device-flow sign-in (`MCP_GRANT_DEVICE_CODE`): the user visits `verification_uri`
// (or `verification_uri_complete`, NULL when the server gives none, which has the code
// filled in) and enters `user_code` within `expires_in` seconds; the library polls meanwhile.
// Return 0 once shown (do not wait for the user); non-zero fails the sign-in with
// `MCP_RESULT_AUTH`. Without this callback the instructions are printed on stderr.
typedef int32_t (*mcp_device_code_fn)(void *user_data,
                                      const char *verification_uri,
                                      const char *verification_uri_complete,
                                      const char *user_code,
                                      uint64_t expires_in);

// Answers one server request (`elicitation/create`, `sampling/createMessage`, `roots/list`,
// or another method): its method and params as JSON text. Return 0 and set `*result_out` to
// the JSON result in a string made with `mcp_string_dup` (NULL: `{}`); or return a non-zero
// JSON-RPC error code (e.g. -32601) and optionally set `*result_out` to the error message
// (also from `mcp_string_dup`). The library frees `*result_out`.
typedef int32_t (*mcp_request_fn)(void *user_data,
                                  const char *method,
                                  const char *params_json,
                                  char **result_out);

// Receives one log line: its level, its target (the module, e.g. `mcp_client::oauth`) and
// the formatted message with its fields.
typedef void (*mcp_log_fn)(void *user_data,
                           mcp_log_level level,
                           const char *target,
                           const char *message);

#ifdef __cplusplus
extern "C" {
#endif // __cplusplus

// The library's version, e.g. `"0.1.0"` (static; never freed). Compare with
// `MCP_VERSION_MAJOR`/`MINOR`/`PATCH` to check that the library matches the header.
const char *mcp_version(void);

// New options with every default: no server yet, no authorization, a 60 s request timeout,
// the system browser as the OAuth presenter and the OS keyring (else a private file) as the
// store. NULL only if the library failed unexpectedly.
struct mcp_options *mcp_options_new(void);

// Free options. NULL is fine, and so is a second free of the same pointer (ignored, while
// the address has not been reused). Clients made from them are not affected.
void mcp_options_free(struct mcp_options *options);

// The server's URL (http or https): Streamable HTTP, falling back to HTTP+SSE.
mcp_result mcp_options_set_url(struct mcp_options *options,
                               const char *url,
                               struct mcp_error **error_out);

// A stdio server instead: the command line of the process to start (words split on
// whitespace; single or double quotes group words).
mcp_result mcp_options_set_stdio(struct mcp_options *options,
                                 const char *command_line,
                                 struct mcp_error **error_out);

// `clientInfo` sent in the handshake (and the client name used in OAuth registration).
mcp_result mcp_options_set_client_info(struct mcp_options *options,
                                       const char *name,
                                       const char *version,
                                       struct mcp_error **error_out);

// The auth mode: an `mcp_auth_mode` value.
mcp_result mcp_options_set_auth(struct mcp_options *options,
                                int32_t mode,
                                struct mcp_error **error_out);

// A fixed bearer token; also selects `MCP_AUTH_MODE_BEARER`.
mcp_result mcp_options_set_bearer_token(struct mcp_options *options,
                                        const char *token,
                                        struct mcp_error **error_out);

// Add a header to every HTTP request (an API key and the like; its value is treated as a
// secret and never logged).
mcp_result mcp_options_add_header(struct mcp_options *options,
                                  const char *name,
                                  const char *value,
                                  struct mcp_error **error_out);

// Trust the CA certificates in this PEM file too (besides the system's and `SSL_CERT_FILE`).
mcp_result mcp_options_add_ca_file(struct mcp_options *options,
                                   const char *path,
                                   struct mcp_error **error_out);

// OAuth: the URL of this client's metadata document (an HTTPS URL with a path), used when
// the authorization server supports client ID metadata documents.
mcp_result mcp_options_set_client_metadata_url(struct mcp_options *options,
                                               const char *url,
                                               struct mcp_error **error_out);

// OAuth: a pre-registered client id, with its secret (NULL for a public client).
mcp_result mcp_options_set_client_id(struct mcp_options *options,
                                     const char *client_id,
                                     const char *client_secret,
                                     struct mcp_error **error_out);

// OAuth: the issuer (authorization server) the pre-registered client, private key or
// assertion belongs to. They are never sent to another; without this they are bound to the
// issuer they are first used with (remembered in the store), and a server that later names
// another authorization server gets `MCP_RESULT_AUTH` instead of them.
mcp_result mcp_options_set_client_issuer(struct mcp_options *options,
                                         const char *issuer,
                                         struct mcp_error **error_out);

// OAuth: how tokens are obtained, an `mcp_grant` value. `assertion` is the assertion of
// `MCP_GRANT_JWT_BEARER` (required there, NULL otherwise). Grants without a browser need
// client credentials (`mcp_options_set_client_id` with a secret, or
// `mcp_options_set_private_key`).
mcp_result mcp_options_set_grant(struct mcp_options *options,
                                 int32_t grant,
                                 const char *assertion,
                                 struct mcp_error **error_out);

// OAuth: authenticate the client with `private_key_jwt`, signing with this PEM key (PKCS#8 EC
// P-256 or RSA, or PKCS#1 RSA); `alg` is `"ES256"` or `"RS256"` (NULL: from the key).
mcp_result mcp_options_set_private_key(struct mcp_options *options,
                                       const char *pem,
                                       const char *alg,
                                       struct mcp_error **error_out);

// OAuth: the scopes to request, separated by spaces, instead of the server's guidance
// (NULL: the server's guidance).
mcp_result mcp_options_set_scopes(struct mcp_options *options,
                                  const char *scopes,
                                  struct mcp_error **error_out);

// OAuth: the port of the loopback redirect listener (0, the default: any free port).
mcp_result mcp_options_set_redirect_port(struct mcp_options *options,
                                         uint16_t port,
                                         struct mcp_error **error_out);

// OAuth: how long the loopback listener waits for the browser's redirect (default 300 s).
mcp_result mcp_options_set_redirect_timeout_ms(struct mcp_options *options,
                                               uint64_t timeout_ms,
                                               struct mcp_error **error_out);

// OAuth: where credentials are kept, an `mcp_store_kind` value; `dir` is the directory of
// `MCP_STORE_KIND_FILE` (NULL: `$XDG_STATE_HOME/mcp-client` or
// `~/.local/state/mcp-client`) and must be NULL for the other kinds. Replaces custom store
// callbacks set earlier.
mcp_result mcp_options_set_store(struct mcp_options *options,
                                 int32_t kind,
                                 const char *dir,
                                 struct mcp_error **error_out);

// OAuth: where credentials are kept, by name, as the CLI's `--store` and `MCP_CLIENT_STORE`
// take it: `auto`, `keyring`, `kernel-keyring`, `file`, `file:<dir>`, `memory`, or a Redis URL
// (`redis://[user:password@]host:port/db`, `rediss://` for TLS) shared by hosts on many
// machines, with the store's settings as query parameters (`prefix`, `lease_ms`,
// `timeout_ms`, `lock_wait_ms`, `fallback`, `key_file`; see docs/auth.md). A name or URL that
// cannot be used is refused here, saying why (never echoing a password). Replaces custom
// store callbacks set earlier.
mcp_result mcp_options_set_store_url(struct mcp_options *options,
                                     const char *store,
                                     struct mcp_error **error_out);

// OAuth: a store of the host's own, as three callbacks sharing `user_data`. All three
// NULL: back to the default store. On success the options own `user_data`: `user_data_free`
// (may be NULL) runs once, when these options and every client made from them are freed (or
// the store is replaced). On failure nothing is kept.
mcp_result mcp_options_set_store_callbacks(struct mcp_options *options,
                                           mcp_store_load_fn load,
                                           mcp_store_save_fn save,
                                           mcp_store_remove_fn remove,
                                           void *user_data,
                                           mcp_free_fn user_data_free,
                                           struct mcp_error **error_out);

// OAuth: show the authorization URL with this callback instead of opening the system
// browser. NULL: back to the browser. Ownership of `user_data` as for the store callbacks.
mcp_result mcp_options_set_presenter(struct mcp_options *options,
                                     mcp_presenter_fn presenter,
                                     void *user_data,
                                     mcp_free_fn user_data_free,
                                     struct mcp_error **error_out);

// OAuth: with `enabled`, answer the authorization URL with one plain GET and take the code
// from its redirect, for authorization servers that approve without a user (tests,
// automation). Replaces the presenter callback; `false` goes back to the system browser.
mcp_result mcp_options_set_headless_presenter(struct mcp_options *options,
                                              bool enabled,
                                              struct mcp_error **error_out);

// The default timeout of each request (default 60 s; `mcp_call_options_set_timeout_ms`
// overrides it per call). Time spent signing in does not count against it.
mcp_result mcp_options_set_request_timeout_ms(struct mcp_options *options,
                                              uint64_t timeout_ms,
                                              struct mcp_error **error_out);

// The timeout to establish a TCP/TLS connection (default 10 s).
mcp_result mcp_options_set_connect_timeout_ms(struct mcp_options *options,
                                              uint64_t timeout_ms,
                                              struct mcp_error **error_out);

// Pin the protocol version (e.g. `2025-06-18`) instead of negotiating the newest.
mcp_result mcp_options_set_protocol_version(struct mcp_options *options,
                                            const char *version,
                                            struct mcp_error **error_out);

// Extra client capabilities to declare: a JSON object merged over those the callbacks imply.
mcp_result mcp_options_set_capabilities(struct mcp_options *options,
                                        const char *capabilities_json,
                                        struct mcp_error **error_out);

// Receive server notifications (logging, progress, list changes, resource updates), in
// order. NULL: none. Ownership of `user_data` as for the store callbacks.
mcp_result mcp_options_set_notification_callback(struct mcp_options *options,
                                                 mcp_notification_fn callback,
                                                 void *user_data,
                                                 mcp_free_fn user_data_free,
                                                 struct mcp_error **error_out);

// Receive authorization events (sign-in needed, browser opened, signed in, token refreshed,
// step-up, refresh failed, store selected, logged out) as JSON objects: see
// `mcp_auth_event_fn`. Used in OAuth mode. NULL: none. Ownership of `user_data` as for the
// store callbacks.
mcp_result mcp_options_set_auth_event_callback(struct mcp_options *options,
                                               mcp_auth_event_fn callback,
                                               void *user_data,
                                               mcp_free_fn user_data_free,
                                               struct mcp_error **error_out);

// OAuth: show device-flow codes (`MCP_GRANT_DEVICE_CODE`) with this callback instead of
// printing them on stderr. NULL: back to stderr. Ownership of `user_data` as for the store
// callbacks.
mcp_result mcp_options_set_device_code_callback(struct mcp_options *options,
                                                mcp_device_code_fn callback,
                                                void *user_data,
                                                mcp_free_fn user_data_free,
                                                struct mcp_error **error_out);

// OAuth: enterprise-managed authorization (SEP-990): the user's identity-provider token
// `subject_token` (of type `subject_token_type`; NULL: an OpenID Connect ID token) is
// exchanged at the identity provider's token endpoint (RFC 8693), as the client
// `idp_client_id` (with `idp_client_secret`, or NULL for a public client there), for an
// identity assertion that this server's authorization server redeems (RFC 7523). Replaces
// the grant set with `mcp_options_set_grant`.
mcp_result mcp_options_set_enterprise_grant(struct mcp_options *options,
                                            const char *idp_token_endpoint,
                                            const char *idp_client_id,
                                            const char *idp_client_secret,
                                            const char *subject_token,
                                            const char *subject_token_type,
                                            struct mcp_error **error_out);

// Answer server requests with this callback: any method, and, for each `MCP_CAPABILITY_*`
// bit in `capabilities`, the matching request type, whose capability is then declared.
// NULL: none (server requests are answered "method not found"). Ownership of `user_data` as
// for the store callbacks.
mcp_result mcp_options_set_request_callback(struct mcp_options *options,
                                            uint32_t capabilities,
                                            mcp_request_fn callback,
                                            void *user_data,
                                            mcp_free_fn user_data_free,
                                            struct mcp_error **error_out);

// Make a client from `options` without connecting (no network). Use it to sign in first with
// `mcp_authorize_begin` / `mcp_authorize_complete` or `mcp_authorize`, then `mcp_connect`.
// `*client_out` is written on success only.
mcp_result mcp_client_create(const struct mcp_options *options,
                             struct mcp_client **client_out,
                             struct mcp_error **error_out);

// Connect a client made by `mcp_client_create`: start the transport and complete the
// handshake (signing in first if the server asks and the client uses OAuth). Connecting a
// connected client does nothing.
mcp_result mcp_connect(struct mcp_client *client,
                       const struct mcp_call_options *call_options,
                       struct mcp_error **error_out);

// Make a client from `options` and connect it (`mcp_client_create` then `mcp_connect`)
// within `call_options` (NULL: no limit but the client's timeouts). `*client_out` is written
// on success only; on failure nothing is kept.
mcp_result mcp_client_new(const struct mcp_options *options,
                          const struct mcp_call_options *call_options,
                          struct mcp_client **client_out,
                          struct mcp_error **error_out);

// Free a client: stop its background work and its callbacks (none runs after this returns,
// unless it is called from inside one of them). It does not end the session politely: call
// `mcp_close` first for that. NULL is fine, and so is a second free of the same pointer
// (ignored, while the address has not been reused). Only after every call on the client has
// returned.
void mcp_client_free(struct mcp_client *client);

// Send any JSON-RPC request: `method` with `params_json` (a JSON object, or NULL for none)
// within `call_options` (NULL: the client's defaults); on success `*result_json_out` is the
// result as JSON text (free with `mcp_string_free`).
mcp_result mcp_call(struct mcp_client *client,
                    const char *method,
                    const char *params_json,
                    const struct mcp_call_options *call_options,
                    char **result_json_out,
                    struct mcp_error **error_out);

// `tools/call`: `arguments_json` is a JSON object (NULL: `{}`); on success `*result_json_out`
// is the `CallToolResult` (a tool that failed is a result with `"isError": true`, not an
// error). A tool whose `execution.taskSupport` is `required` runs as a task, waited for to the
// end within `call_options` (a wait that times out or is cancelled cancels the task); the
// `mcp_task_*` calls below run tasks step by step.
mcp_result mcp_call_tool(struct mcp_client *client,
                         const char *name,
                         const char *arguments_json,
                         const struct mcp_call_options *call_options,
                         char **result_json_out,
                         struct mcp_error **error_out);

// Every tool (all pages of `tools/list`), as a JSON array.
mcp_result mcp_list_tools(struct mcp_client *client,
                          const struct mcp_call_options *call_options,
                          char **tools_json_out,
                          struct mcp_error **error_out);

// Every resource (all pages of `resources/list`), as a JSON array.
mcp_result mcp_list_resources(struct mcp_client *client,
                              const struct mcp_call_options *call_options,
                              char **resources_json_out,
                              struct mcp_error **error_out);

// Every prompt (all pages of `prompts/list`), as a JSON array.
mcp_result mcp_list_prompts(struct mcp_client *client,
                            const struct mcp_call_options *call_options,
                            char **prompts_json_out,
                            struct mcp_error **error_out);

// `resources/read` of `uri`; on success `*result_json_out` is the result (its `contents`).
mcp_result mcp_read_resource(struct mcp_client *client,
                             const char *uri,
                             const struct mcp_call_options *call_options,
                             char **result_json_out,
                             struct mcp_error **error_out);

// `prompts/get` of `name` with `arguments_json` (a JSON object of strings; NULL: `{}`).
mcp_result mcp_get_prompt(struct mcp_client *client,
                          const char *name,
                          const char *arguments_json,
                          const struct mcp_call_options *call_options,
                          char **result_json_out,
                          struct mcp_error **error_out);

// `ping`.
mcp_result mcp_ping(struct mcp_client *client,
                    const struct mcp_call_options *call_options,
                    struct mcp_error **error_out);

// What the handshake settled, as a JSON object: `protocolVersion`, `transport`
// (`streamable-http`, `http+sse` or `stdio`), `sessionId` (or null) and `server` (the
// server's `initialize` result: `serverInfo`, `capabilities`, `instructions`).
mcp_result mcp_server_info(struct mcp_client *client,
                           char **info_json_out,
                           struct mcp_error **error_out);

// Close the connection: end the session (an HTTP DELETE where there is one) or stop the
// stdio server. Later calls fail with `MCP_RESULT_CLOSED`. Closing twice, or a client that
// never connected, is fine.
mcp_result mcp_close(struct mcp_client *client,
                     const struct mcp_call_options *call_options,
                     struct mcp_error **error_out);

// Cancel every call of this client in flight now (they fail with `MCP_RESULT_CANCELLED`;
// the server is told). Calls started afterwards are not affected. Does not block: callable
// from any thread, callbacks included.
mcp_result mcp_cancel(struct mcp_client *client);

// OAuth: sign in now (or resume: a stored or refreshable token makes this quick), without
// waiting for the server to ask; the presenter shows the URL if the user is needed.
// `MCP_RESULT_INVALID_ARGUMENT` for a client without OAuth.
mcp_result mcp_authorize(struct mcp_client *client,
                         const struct mcp_call_options *call_options,
                         struct mcp_error **error_out);

// OAuth, step one of the sign-in without callbacks: discover the authorization server,
// register with `redirect_uri` (the host's own redirect handler), and return the URL to send
// the user to in `*url_out` (free with `mcp_string_free`).
mcp_result mcp_authorize_begin(struct mcp_client *client,
                               const char *redirect_uri,
                               const struct mcp_call_options *call_options,
                               char **url_out,
                               struct mcp_error **error_out);

// OAuth, step two: `redirect_url` is the full URL the browser was redirected to (with `code`
// and `state`); checks it and obtains the tokens (saved in the store).
mcp_result mcp_authorize_complete(struct mcp_client *client,
                                  const char *redirect_url,
                                  const struct mcp_call_options *call_options,
                                  struct mcp_error **error_out);

// OAuth: what is held now, as a JSON object without secrets (`issuer`, `client_id`,
// `has_token`, `has_refresh_token`, `token_type`, `expires_at`, `scopes`, …).
mcp_result mcp_auth_status(struct mcp_client *client,
                           char **status_json_out,
                           struct mcp_error **error_out);

// OAuth: revoke the tokens at the server (when it supports it), forget them and delete the
// stored entry (locally even when revocation fails; that failure is then returned).
mcp_result mcp_logout(struct mcp_client *client,
                      const struct mcp_call_options *call_options,
                      struct mcp_error **error_out);

// Tasks: start the tool `tool_name` as a task with `arguments_json` (a JSON object; NULL:
// `{}`) and return at once, before the tool is done. `ttl_ms` asks the server to keep the
// task that many milliseconds from its creation (0: the server's default; it may keep it for
// less). On success `*task_json_out` is the `CreateTaskResult`: `{"task": {"taskId": …,
// "status": "working", "pollInterval": …, …}, "_meta": …}`; follow the task with its
// `taskId` through `mcp_task_status`, `mcp_task_result` and `mcp_task_cancel`.
//
// `MCP_RESULT_INVALID_ARGUMENT` when the server does not accept task-augmented tool calls
// (it declares no `tasks.requests.tools.call`) or the tool is listed as `forbidden`.
// `mcp_call_tool` is simpler when only the final result matters: it runs a tool whose
// `taskSupport` is `required` as a task and waits for it.
mcp_result mcp_task_start(struct mcp_client *client,
                          const char *tool_name,
                          const char *arguments_json,
                          uint64_t ttl_ms,
                          const struct mcp_call_options *call_options,
                          char **task_json_out,
                          struct mcp_error **error_out);

// Tasks: the current state of the task `task_id` (`tasks/get`), as the `Task` JSON object
// (`taskId`, `status`: `working`, `input_required`, `completed`, `failed` or `cancelled`,
// `statusMessage`, `createdAt`, `lastUpdatedAt`, `ttl`, `pollInterval`). Does not wait.
mcp_result mcp_task_status(struct mcp_client *client,
                           const char *task_id,
                           const struct mcp_call_options *call_options,
                           char **task_json_out,
                           struct mcp_error **error_out);

// Tasks: wait for the task `task_id` to end, then return its result: `*result_json_out` is
// what the tool call would have returned (the `CallToolResult`; a tool that failed is a
// result with `"isError": true`), and a task whose request failed is that error
// (`MCP_RESULT_RPC`). The wait polls at the server's `pollInterval`; requests the server
// sends while the task needs input reach the client's request callback. `call_options`
// (NULL: the client's request timeout) bound the whole wait: one that times out or is
// cancelled leaves the task running (cancel it with `mcp_task_cancel`, or call again).
mcp_result mcp_task_result(struct mcp_client *client,
                           const char *task_id,
                           const struct mcp_call_options *call_options,
                           char **result_json_out,
                           struct mcp_error **error_out);

// Tasks: cancel the task `task_id` (`tasks/cancel`); `*task_json_out` is the task in its new
// state (`"status": "cancelled"`). Cancelling a task that already ended is the server's
// error (`MCP_RESULT_RPC`, JSON-RPC code -32602).
mcp_result mcp_task_cancel(struct mcp_client *client,
                           const char *task_id,
                           const struct mcp_call_options *call_options,
                           char **task_json_out,
                           struct mcp_error **error_out);

// Tasks: every task the server keeps for this client (all pages of `tasks/list`), as a JSON
// array of `Task` objects (see `mcp_task_status`).
mcp_result mcp_task_list(struct mcp_client *client,
                         const struct mcp_call_options *call_options,
                         char **tasks_json_out,
                         struct mcp_error **error_out);

// New call options: the client's default timeout, not cancelled. Free with
// `mcp_call_options_free`. NULL only if memory ran out.
struct mcp_call_options *mcp_call_options_new(void);

// Free call options once no call using them is running. NULL and a second free are ignored.
void mcp_call_options_free(struct mcp_call_options *options);

// The timeout of calls made with these options, in milliseconds (0: the client's default).
// For a request it bounds the request itself: time spent signing in does not count (see
// `mcp_options_set_request_timeout_ms`). For `mcp_client_new`, `mcp_connect`,
// `mcp_authorize*`, `mcp_logout` and `mcp_close` it bounds the whole operation.
mcp_result mcp_call_options_set_timeout_ms(struct mcp_call_options *options,
                                           uint64_t timeout_ms);

// A progress token for calls made with these options (NULL: none, the default): each sends
// it as `_meta.progressToken`, and the server's `notifications/progress` carrying it reach
// the notification callback (for a tool run as a task, until the task ends). The string is
// copied. Give calls in flight at the same time tokens of their own.
mcp_result mcp_call_options_set_progress_token(struct mcp_call_options *options,
                                               const char *token);

// Cancel the calls running with these options, and every later call made with them: each
// returns `MCP_RESULT_CANCELLED` promptly, the server is told where the protocol allows, and
// the client stays usable. Other calls of the same client are not affected. Never blocks:
// callable from any thread, callbacks included.
mcp_result mcp_call_options_cancel(struct mcp_call_options *options);

// Whether `mcp_call_options_cancel` was called on these options (false for NULL).
bool mcp_call_options_is_cancelled(const struct mcp_call_options *options);

// The code of the failure (`MCP_RESULT_NULL_ARGUMENT` for a NULL `error`).
mcp_result mcp_error_code(const struct mcp_error *error);

// A human-readable message, never NULL (empty for a NULL `error`). It names endpoints and
// the server's words, never a token or a secret.
const char *mcp_error_message(const struct mcp_error *error);

// The OAuth `error` code the authorization server gave (e.g. `invalid_grant`,
// `access_denied`), or NULL.
const char *mcp_error_oauth_error(const struct mcp_error *error);

// The OAuth `error_description` the authorization server gave, or NULL.
const char *mcp_error_oauth_error_description(const struct mcp_error *error);

// Whether the failure is a JSON-RPC error from the server; if so, and `code_out` is not
// NULL, its code (e.g. -32601) is written there.
bool mcp_error_rpc_code(const struct mcp_error *error,
                        int64_t *code_out);

// The `data` member of the server's JSON-RPC error, as JSON text, or NULL.
const char *mcp_error_rpc_data(const struct mcp_error *error);

// The HTTP status behind the failure, or 0.
uint16_t mcp_error_http_status(const struct mcp_error *error);

// Free an error. NULL is fine, and so is a second free of the same pointer (ignored, while
// the address has not been reused).
void mcp_error_free(struct mcp_error *error);

// A short static description of a result code (never NULL, never to be freed).
const char *mcp_result_str(int32_t code);

// A new string holding the `len` bytes at `bytes` and a terminating NUL, for a callback to
// hand back (a redirect URL, a store entry, a request's result). NULL when `bytes` is NULL
// (with `len` > 0), when the bytes hold a NUL, or when memory runs out. The library frees it
// when a callback hands it back; otherwise free it with `mcp_string_free`.
char *mcp_string_new(const char *bytes,
                     size_t len);

// A copy of the NUL-terminated string `s` (NULL for NULL), for a callback to hand back; see
// `mcp_string_new`.
char *mcp_string_dup(const char *s);

// Free a string the library returned, or one made with `mcp_string_new` / `mcp_string_dup`
// that was not handed back. NULL is fine. Never pass a string from anywhere else.
void mcp_string_free(char *s);

// Send the library's log lines at `level` and above to `callback` (process-wide: the lines of
// every client). A NULL `callback` (or `MCP_LOG_LEVEL_OFF`) turns logging off. The callback
// replaces any earlier one, whose `user_data_free` then runs before this call returns (after
// any line still being delivered to it on another thread); this one's runs when it is
// replaced in turn, never at exit. A blocking call from inside the log callback fails with
// `MCP_RESULT_REENTRANT`.
//
// `level` is an `mcp_log_level`. With a NULL `callback`, `user_data` and `user_data_free` are
// ignored. On failure the library keeps nothing: `user_data_free` is not called.
// Fails with `MCP_RESULT_INVALID_ARGUMENT` when the process already has another `tracing`
// subscriber (a Rust host that set its own).
mcp_result mcp_log_set_callback(int32_t level,
                                mcp_log_fn callback,
                                void *user_data,
                                mcp_free_fn user_data_free,
                                struct mcp_error **error_out);

#ifdef __cplusplus
}  // extern "C"
#endif  // __cplusplus

#endif  /* MCP_CLIENT_H */
