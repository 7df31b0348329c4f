package interop

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

type tokenKey struct{}

// StartMCPGoServer starts an MCP server built with github.com/mark3labs/mcp-go (its
// streamable HTTP server, serving its RFC 9728 metadata through WithProtectedResourceMetadata)
// on 127.0.0.1. mcp-go has no bearer-token check of its own, so /mcp sits behind
// RequireBearer, a small middleware that introspects tokens at a fresh
// mcp-test-server --oauth. Access tokens live ttl (0: an hour).
//
// Tools: echo {text} sends a notifications/message "echo: TEXT" (and progress when the
// request has a progress token) before returning TEXT; whoami returns the token's client id
// and scopes.
func StartMCPGoServer(ttl time.Duration) (*Server, error) {
	return start("mcp-go", ttl, func(s *Server) (http.Handler, error) {
		mcpServer := server.NewMCPServer("mcp-go-interop", "1.0.0",
			server.WithToolCapabilities(false), server.WithLogging())
		mcpServer.AddTool(mcp.NewTool("echo",
			mcp.WithDescription("Returns its text; logs and reports progress on the way."),
			mcp.WithString("text", mcp.Required(), mcp.Description("the text to send back"))),
			func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
				text, err := req.RequireString("text")
				if err != nil {
					return mcp.NewToolResultError(err.Error()), nil
				}
				sent := notesWritten(ctx) + 1
				if req.Params.Meta != nil && req.Params.Meta.ProgressToken != nil {
					sent++
					if err := mcpServer.SendNotificationToClient(ctx, "notifications/progress", map[string]any{
						"progressToken": req.Params.Meta.ProgressToken, "progress": 1, "total": 2,
						"message": "echoing",
					}); err != nil {
						return nil, err
					}
				}
				// A log message whatever the level (the spec lets a server choose when the
				// client set none).
				if err := mcpServer.SendNotificationToClient(ctx, "notifications/message", map[string]any{
					"level": "info", "logger": "mcp-go", "data": "echo: " + text,
				}); err != nil {
					return nil, err
				}
				// mcp-go v1.2.1 loses a notification sent just before the handler returns
				// about half the time (upstream pull request mark3labs/mcp-go#969: the
				// forwarder goroutine takes it off the session's channel, the response path
				// ends the request first, and the forwarder drops it). So return only once
				// the server has written what was sent. The Go SDK needs no such wait.
				awaitWritten(ctx, sent)
				return mcp.NewToolResultText(text), nil
			})
		mcpServer.AddTool(mcp.NewTool("whoami",
			mcp.WithDescription("The client id and scopes of the access token.")),
			func(ctx context.Context, _ mcp.CallToolRequest) (*mcp.CallToolResult, error) {
				in, _ := ctx.Value(tokenKey{}).(*Introspection)
				if in == nil {
					return mcp.NewToolResultError("no token info"), nil
				}
				who := WhoAmI{ClientID: in.ClientID, Scopes: strings.Fields(in.Scope)}
				return mcp.NewToolResultStructured(who, fmt.Sprintf("%s %s", in.ClientID, in.Scope)), nil
			})
		streamable := server.NewStreamableHTTPServer(mcpServer,
			server.WithEndpointPath("/mcp"),
			server.WithProtectedResourceMetadata(server.ProtectedResourceMetadataConfig{
				Resource:               s.URL,
				AuthorizationServers:   []string{s.AS.Issuer},
				ScopesSupported:        Scopes,
				BearerMethodsSupported: []string{"header"},
				ResourceName:           "mcp-go interop server",
			}),
			server.WithHTTPContextFunc(func(ctx context.Context, r *http.Request) context.Context {
				// The middleware's verdict and the response's notification count, for the tools.
				for _, key := range []any{tokenKey{}, writtenKey{}} {
					if v := r.Context().Value(key); v != nil {
						ctx = context.WithValue(ctx, key, v)
					}
				}
				return ctx
			}))
		mux := http.NewServeMux()
		mux.Handle("/mcp", s.counting(RequireBearer(s, streamable)))
		// StreamableHTTPServer serves the metadata itself, at the path RFC 9728 derives
		// from the resource (/.well-known/oauth-protected-resource/mcp).
		mux.Handle("/.well-known/", streamable)
		return mux, nil
	})
}

// RequireBearer admits requests whose bearer token the authorization server says is active,
// for this resource, with RequiredScope; otherwise it answers 401 (or 403 for a missing scope)
// with a WWW-Authenticate challenge naming the protected resource metadata (RFC 6750, RFC 9728).
func RequireBearer(s *Server, next http.Handler) http.Handler {
	challenge := func(w http.ResponseWriter, status int, params ...string) {
		params = append(params, fmt.Sprintf("resource_metadata=%q", s.MetadataURL))
		w.Header().Set("WWW-Authenticate", "Bearer "+strings.Join(params, ", "))
		http.Error(w, http.StatusText(status), status)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme, token, ok := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
		token = strings.TrimSpace(token)
		if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
			challenge(w, http.StatusUnauthorized, fmt.Sprintf("scope=%q", RequiredScope))
			return
		}
		in, err := s.AS.Introspect(r.Context(), token)
		if err != nil {
			challenge(w, http.StatusUnauthorized, `error="invalid_token"`,
				fmt.Sprintf("error_description=%q", err.Error()))
			return
		}
		if !slices.Contains(strings.Fields(in.Scope), RequiredScope) {
			challenge(w, http.StatusForbidden, `error="insufficient_scope"`,
				fmt.Sprintf("scope=%q", RequiredScope))
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), tokenKey{}, in)))
	})
}
