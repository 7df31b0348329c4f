// Package mcpclient is a Model Context Protocol client with complete OAuth 2.1
// authorization: Streamable HTTP, HTTP+SSE and stdio transports, every protocol version,
// server requests (elicitation, sampling, roots) and notifications. It is a thin cgo layer
// over libmcp_client, the project's Rust core, through its C ABI (include/mcp_client.h).
//
//	ctx := context.Background()
//	c, err := mcpclient.New(ctx, "http://127.0.0.1:8080/mcp")
//	if err != nil {
//		log.Fatal(err)
//	}
//	defer c.Close()
//	res, err := c.CallTool(ctx, "echo", map[string]any{"text": "hi"})
//	if err != nil {
//		log.Fatal(err)
//	}
//	fmt.Println(res.Text())
//
// # Contexts
//
// Every call that may block takes a context.Context: its deadline is the call's timeout,
// and cancelling it ends that call only (the server is told with notifications/cancelled).
// The error then matches both the context's error and the class sentinel:
// errors.Is(err, context.DeadlineExceeded) and errors.Is(err, ErrTimeout), or
// errors.Is(err, context.Canceled) and errors.Is(err, ErrCancelled).
//
// # Errors
//
// Every error a call returns is an *Error: its Code (the C ABI's result code), the
// library's message, and where they apply the HTTP status, the JSON-RPC error code and data,
// the OAuth error and description. errors.Is with the Err* sentinels tells its class.
//
// # Tasks
//
// With a server that declares tasks (protocol 2025-11-25), CallTool runs a tool whose
// execution.taskSupport is "required" as a task and waits for its result (a wait that ends
// with its context cancels the task). To run a task step by step instead: StartToolTask
// returns the *Task at once (TaskID, Status, TTL, PollInterval, ...); TaskStatus reads its
// state without waiting; TaskResult waits within its context for the CallToolResult (the
// server's requests while the task is TaskInputRequired reach the handlers meanwhile, and a
// wait that ends with the context leaves the task running); CancelTask cancels it; ListTasks
// lists the client's tasks. A task whose request failed, or that was cancelled before it
// produced a result, makes TaskResult return the server's error (ErrRPC, Error.RPCCode); an
// unknown id is ErrRPC too, an empty one ErrInvalidArgument.
//
// # Progress
//
// A progress token travels with the context, like the deadline: Call, CallTool,
// CallToolRaw and StartToolTask made with WithProgressToken(ctx, token) send it as the
// request's _meta.progressToken, and the server's notifications/progress carrying it reach
// the notification handler (WithNotificationHandler), in order:
//
//	c, err := mcpclient.New(ctx, url, mcpclient.WithNotificationHandler(
//		func(method string, params json.RawMessage) {
//			if method == "notifications/progress" {
//				fmt.Println(string(params)) // {"progressToken":"job-1","progress":1,"total":4,...}
//			}
//		}))
//	...
//	task, err := c.StartToolTask(mcpclient.WithProgressToken(ctx, "job-1"), "report", nil, 0)
//
// For a tool run as a task the token goes on the request that creates it (not on the polls)
// and its progress keeps coming until the task ends. Tokens are strings only (the C ABI
// takes strings); "" is no token. Other calls ignore the token, and a call whose context
// carries none sends none.
//
// # OAuth
//
// WithOAuth turns on the engine: on a 401 it discovers the authorization server, registers,
// signs in (a browser with PKCE, a Presenter of your own, the device flow, client
// credentials, jwt-bearer or enterprise-managed authorization), keeps the tokens fresh and
// stored (the OS keyring, a file, memory, Redis shared by hosts on many machines with
// OAuth.StoreURL, or a CredentialStore of your own) and steps up
// scopes on 403. To sign in before connecting, make the client WithoutConnect, call
// Authorize (or BeginAuthorization and CompleteAuthorization with your own redirect
// handler), then Connect.
//
// # Callbacks
//
// Handlers, presenters, stores and the logger run on the library's threads, and may run
// while your call waits. A blocking call on the client from inside one fails with
// ErrReentrant. A panic in a callback is recovered: in a presenter or device-code display it
// fails the sign-in, and the call returns an ErrAuth error wrapping a *PanicError; in a
// handler the server's request is answered with an internal error; elsewhere it is logged.
// The library never holds a Go pointer: each callback is reached through a cgo.Handle.
//
// # Linking
//
// By default the package links target/release/libmcp_client.a from the repository
// statically (build it with `cargo build --release -p mcp-client-capi`). With the build tag
// mcpclient_dynamic it links target/release/libmcp_client.so instead, with an rpath to that
// directory.
package mcpclient
