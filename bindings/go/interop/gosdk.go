package interop

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/modelcontextprotocol/go-sdk/oauthex"
)

// EchoArgs are the arguments of the echo tools.
type EchoArgs struct {
	Text string `json:"text" jsonschema:"the text to send back"`
}

// WhoAmI is what the whoami tool of the Go SDK server returns: what the token verifier
// learnt of the token of the request.
type WhoAmI struct {
	ClientID string   `json:"client_id"`
	Scopes   []string `json:"scopes"`
}

// StartGoSDKServer starts an MCP server built with the official Go SDK
// (github.com/modelcontextprotocol/go-sdk) on 127.0.0.1, behind the SDK's bearer-token
// middleware (auth.RequireBearerToken) with a verifier that introspects tokens at a fresh
// mcp-test-server --oauth, and serving its RFC 9728 metadata with the SDK's handler.
// Access tokens live ttl (0: an hour).
//
// Tools: echo {text} logs "echo: TEXT" (a notifications/message, once the client has set a
// log level), reports progress when the request has a progress token, and returns TEXT;
// whoami returns the token's client id and scopes (structured content).
func StartGoSDKServer(ttl time.Duration) (*Server, error) {
	return start("go-sdk", ttl, func(s *Server) (http.Handler, error) {
		server := mcp.NewServer(&mcp.Implementation{Name: "go-sdk-interop", Version: "1.0.0"}, nil)
		mcp.AddTool(server, &mcp.Tool{Name: "echo", Description: "Returns its text; logs and reports progress on the way."},
			func(ctx context.Context, req *mcp.CallToolRequest, args EchoArgs) (*mcp.CallToolResult, any, error) {
				if tok := req.Params.GetProgressToken(); tok != nil {
					_ = req.Session.NotifyProgress(ctx, &mcp.ProgressNotificationParams{
						ProgressToken: tok, Progress: 1, Total: 2, Message: "echoing",
					})
				}
				_ = req.Session.Log(ctx, &mcp.LoggingMessageParams{
					Level: "info", Logger: "go-sdk", Data: "echo: " + args.Text,
				})
				return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: args.Text}}}, nil, nil
			})
		mcp.AddTool(server, &mcp.Tool{Name: "whoami", Description: "The client id and scopes of the access token."},
			func(ctx context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, WhoAmI, error) {
				info := req.Extra.TokenInfo
				if info == nil {
					return nil, WhoAmI{}, fmt.Errorf("no token info")
				}
				return nil, WhoAmI{ClientID: info.UserID, Scopes: info.Scopes}, nil
			})
		handler := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return server }, nil)

		verifier := func(ctx context.Context, token string, _ *http.Request) (*auth.TokenInfo, error) {
			in, err := s.AS.Introspect(ctx, token)
			if err != nil {
				return nil, fmt.Errorf("%w: %v", auth.ErrInvalidToken, err)
			}
			return &auth.TokenInfo{
				Scopes:     strings.Fields(in.Scope),
				Expiration: time.Unix(in.Exp, 0),
				// The SDK ties a session to this: every request of one session must come
				// from the same user (here the client; a refreshed token keeps it).
				UserID: in.ClientID,
			}, nil
		}
		protect := auth.RequireBearerToken(verifier, &auth.RequireBearerTokenOptions{
			ResourceMetadataURL: s.MetadataURL,
			Scopes:              []string{RequiredScope},
		})
		prm := auth.ProtectedResourceMetadataHandler(&oauthex.ProtectedResourceMetadata{
			Resource:               s.URL,
			AuthorizationServers:   []string{s.AS.Issuer},
			ScopesSupported:        Scopes,
			BearerMethodsSupported: []string{"header"},
			ResourceName:           "go-sdk interop server",
		})
		mux := http.NewServeMux()
		mux.Handle("/mcp", s.counting(protect(handler)))
		mux.Handle("/.well-known/oauth-protected-resource/mcp", prm)
		mux.Handle("/.well-known/oauth-protected-resource", prm)
		return mux, nil
	})
}
