// Command mcp-conformance-client is the client the official MCP conformance suite drives,
// over the Go package: the Go twin of cli/src/bin/mcp-conformance-client.rs (and of
// python/tests/conformance_client.py), with the same scenarios, the same calls and the same
// OAuth settings, so a pass here is a pass for the Go binding as well as the core.
//
// Contract (see tests/conformance/run.mjs): the server URL is the last argument;
// MCP_CONFORMANCE_SCENARIO names the scenario, MCP_CONFORMANCE_PROTOCOL_VERSION (alpha suite)
// the protocol version to speak, MCP_CONFORMANCE_CONTEXT carries JSON for scenarios that need
// inputs. It exits 0 when the scenario's steps all succeeded, else 1 with the reason on
// stderr (2 for a usage error). MCP_LOG (trace, debug, info, warn, error; default warn) is the
// level of the library's lines on stderr.
//
//	go build -o target/go/mcp-conformance-client ./cmd/mcp-conformance-client
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"strings"

	mcpclient "github.com/mcp-client/mcp-client/bindings/go"
)

const (
	// latestStateful is mcp_client::protocol::LATEST_STATEFUL, which the Rust client pins
	// when the suite names no version. Pinned here too: left unset, the core would first
	// probe for the stateless revision (server/discover), which the Rust client never does.
	latestStateful    = "2025-11-25"
	clientName        = "mcp-client-conformance"
	clientMetadataURL = "https://conformance-test.local/client-metadata.json"
)

func main() {
	initLogging()
	// The runner appends the server URL as the last argument.
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: mcp-conformance-client <server-url>")
		os.Exit(2)
	}
	url := os.Args[len(os.Args)-1]
	scenario := os.Getenv("MCP_CONFORMANCE_SCENARIO")
	if err := run(url, scenario); err != nil {
		fmt.Fprintf(os.Stderr, "mcp-conformance-client: %s: %v\n", scenario, err)
		os.Exit(1)
	}
}

// initLogging sends the library's lines to stderr at MCP_LOG's level (warn unless set), as
// the Rust client's default filter does.
func initLogging() {
	level := slog.LevelWarn
	switch strings.ToLower(strings.TrimSpace(os.Getenv("MCP_LOG"))) {
	case "trace":
		level = mcpclient.LevelTrace
	case "debug":
		level = slog.LevelDebug
	case "info":
		level = slog.LevelInfo
	case "error":
		level = slog.LevelError
	}
	l := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	if err := mcpclient.SetLogger(l); err != nil {
		fmt.Fprintf(os.Stderr, "mcp-conformance-client: logging: %v\n", err)
	}
}

// conformanceContext is the scenario's inputs (empty when there are none or they do not
// parse).
func conformanceContext() map[string]any {
	var ctx map[string]any
	if err := json.Unmarshal([]byte(os.Getenv("MCP_CONFORMANCE_CONTEXT")), &ctx); err != nil || ctx == nil {
		return map[string]any{}
	}
	return ctx
}

// str is ctx[key] when it is a string.
func str(ctx map[string]any, key string) (string, bool) {
	s, ok := ctx[key].(string)
	return s, ok
}

// oauthConfig is the OAuth settings a scenario calls for: the suite's authorization servers
// approve at once, so the authorization URL is followed headlessly; credentials come from
// the context.
func oauthConfig(scenario string) mcpclient.OAuth {
	ctx := conformanceContext()
	s := func(key string) string { v, _ := str(ctx, key); return v }
	cfg := mcpclient.OAuth{
		Headless:          true,
		ClientMetadataURL: clientMetadataURL,
		// Every scenario starts fresh; nothing of a mock server's is kept.
		Store: mcpclient.StoreMemory,
	}
	switch scenario {
	case "auth/client-credentials-basic":
		cfg.ClientID, cfg.ClientSecret = s("client_id"), s("client_secret")
		cfg.Grant = mcpclient.GrantClientCredentials
	case "auth/client-credentials-jwt":
		cfg.ClientID = s("client_id")
		cfg.PrivateKeyPEM, cfg.PrivateKeyAlg = s("private_key_pem"), s("signing_algorithm")
		cfg.Grant = mcpclient.GrantClientCredentials
	case "auth/wif-jwt-bearer":
		cfg.ClientID = s("client_id")
		cfg.Grant = mcpclient.GrantJWTBearer
		cfg.Assertion = s("valid_jwt")
	case "auth/cross-app-access-complete-flow", "auth/enterprise-managed-authorization":
		cfg.ClientID, cfg.ClientSecret = s("client_id"), s("client_secret")
		cfg.Enterprise = &mcpclient.EnterpriseGrant{
			IDPTokenEndpoint: s("idp_token_endpoint"),
			IDPClientID:      s("idp_client_id"),
			SubjectToken:     s("idp_id_token"),
			SubjectTokenType: "urn:ietf:params:oauth:token-type:id_token",
		}
	default:
		if id, ok := str(ctx, "client_id"); ok {
			cfg.ClientID, cfg.ClientSecret = id, s("client_secret")
		}
	}
	return cfg
}

func connect(ctx context.Context, url, scenario string) (*mcpclient.Client, error) {
	version := latestStateful
	if v, ok := os.LookupEnv("MCP_CONFORMANCE_PROTOCOL_VERSION"); ok {
		version = v
	}
	return mcpclient.New(ctx, url,
		mcpclient.WithOAuth(oauthConfig(scenario)),
		// The client name of the handshake and of OAuth registration.
		mcpclient.WithClientInfo(clientName, mcpclient.Version),
		mcpclient.WithProtocolVersion(version),
		// Accept every form; the library fills in the schema's defaults.
		mcpclient.WithElicitationHandler(func(context.Context, *mcpclient.ElicitRequest) (*mcpclient.ElicitResult, error) {
			return &mcpclient.ElicitResult{Action: "accept", Content: map[string]any{}}, nil
		}),
		mcpclient.WithSamplingHandler(func(context.Context, *mcpclient.SamplingRequest) (*mcpclient.SamplingResult, error) {
			return &mcpclient.SamplingResult{
				Role:       "assistant",
				Content:    mcpclient.TextContent("conformance sample"),
				Model:      "none",
				StopReason: "endTurn",
			}, nil
		}),
		mcpclient.WithRootsHandler(func(context.Context) ([]mcpclient.Root, error) {
			return []mcpclient.Root{}, nil
		}),
	)
}

func run(url, scenario string) error {
	ctx := context.Background()
	c, err := connect(ctx, url, scenario)
	if err != nil {
		return err
	}
	outcome := drive(ctx, c, scenario)
	// Ending the session is best effort; the scenario's verdict is the calls above.
	_ = c.Close()
	return outcome
}

// callChecked calls a tool and fails when the tool reports an error.
func callChecked(ctx context.Context, c *mcpclient.Client, name string, args any) error {
	r, err := c.CallTool(ctx, name, args)
	if err != nil {
		return err
	}
	if r.IsError {
		return fmt.Errorf("tool `%s` reported an error: %s", name, r.Raw)
	}
	return nil
}

func drive(ctx context.Context, c *mcpclient.Client, scenario string) error {
	tools, err := c.ListTools(ctx)
	if err != nil {
		return err
	}
	none := map[string]any{}
	switch scenario {
	case "initialize", "request-metadata", "json-schema-ref-no-deref":
		return nil
	case "tools_call":
		return callChecked(ctx, c, "add_numbers", map[string]any{"a": 2, "b": 3})
	case "elicitation-sep1034-client-defaults":
		return callChecked(ctx, c, "test_client_elicitation_defaults", none)
	case "sse-retry":
		return callChecked(ctx, c, "test_reconnection", none)
	case "json-schema-2020-12-preservation":
		for _, t := range tools {
			if t.Name == "json_schema_2020_12_tool" {
				schema := t.InputSchema
				if len(schema) == 0 {
					schema = json.RawMessage("null")
				}
				_, err := c.CallTool(ctx, "json_schema_echo", map[string]any{"schema": schema})
				return err
			}
		}
		return fmt.Errorf("json_schema_2020_12_tool not listed")
	case "sep-2322-client-request-state":
		for _, name := range []string{
			"test_mrtr_echo_state",
			"test_mrtr_no_state",
			"test_mrtr_unrelated",
			"test_mrtr_no_result_type",
		} {
			if err := callChecked(ctx, c, name, none); err != nil {
				return err
			}
		}
		return nil
	case "http-standard-headers":
		for _, t := range tools {
			if t.Name != "" {
				if _, err := c.CallTool(ctx, t.Name, none); err != nil {
					return err
				}
			}
		}
		resources, err := c.ListResources(ctx)
		if err != nil {
			return err
		}
		if len(resources) > 0 && resources[0].URI != "" {
			if _, err := c.ReadResource(ctx, resources[0].URI); err != nil {
				return err
			}
		}
		prompts, err := c.ListPrompts(ctx)
		if err != nil {
			return err
		}
		for _, p := range prompts {
			if p.Name != "" {
				if _, err := c.GetPrompt(ctx, p.Name, map[string]string{}); err != nil {
					return err
				}
			}
		}
		return nil
	case "http-custom-headers":
		calls, _ := conformanceContext()["toolCalls"].([]any)
		for _, call := range calls {
			m, _ := call.(map[string]any)
			name, _ := m["name"].(string)
			var args any
			if a, ok := m["arguments"].(map[string]any); ok {
				args = a
			}
			if _, err := c.CallTool(ctx, name, args); err != nil {
				return err
			}
		}
		return nil
	case "http-invalid-tool-headers":
		// Only tools that survived the library's x-mcp-header validation are listed.
		for _, t := range tools {
			if t.Name != "" {
				if _, err := c.CallTool(ctx, t.Name, sampleArguments(t.InputSchema)); err != nil {
					return err
				}
			}
		}
		return nil
	default:
		// Auth and other scenarios: list the tools (done) and call the test tool if there.
		for _, t := range tools {
			if t.Name == "test-tool" {
				return callChecked(ctx, c, "test-tool", none)
			}
		}
		return nil
	}
}

// sampleArguments satisfies a simple schema: each property a plausible value of its type.
func sampleArguments(schema json.RawMessage) map[string]any {
	args := map[string]any{}
	var s struct {
		Properties map[string]struct {
			Type any `json:"type"`
		} `json:"properties"`
	}
	if len(schema) == 0 || json.Unmarshal(schema, &s) != nil {
		return args
	}
	samples := map[string]any{"string": "us-west1", "integer": 1, "number": 1.5, "boolean": true}
	for name, p := range s.Properties {
		if t, ok := p.Type.(string); ok {
			if v, ok := samples[t]; ok {
				args[name] = v
			}
		}
	}
	return args
}
