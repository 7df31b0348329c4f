package mcpclient

import (
	"encoding/json"
	"math"
	"strings"
	"time"
)

// The MCP types the typed calls return. Each keeps the members this package models; the
// JSON the server sent is kept where a type has a Raw field, and CallToolRaw and Call give
// any result as JSON.

// Tool is one tool of tools/list.
type Tool struct {
	Name         string           `json:"name"`
	Title        string           `json:"title,omitempty"`
	Description  string           `json:"description,omitempty"`
	InputSchema  json.RawMessage  `json:"inputSchema,omitempty"`  // a JSON Schema object
	OutputSchema json.RawMessage  `json:"outputSchema,omitempty"` // a JSON Schema object, or nil
	Annotations  *ToolAnnotations `json:"annotations,omitempty"`
	Meta         json.RawMessage  `json:"_meta,omitempty"`
}

// ToolAnnotations are a tool's hints (nil: not given).
type ToolAnnotations struct {
	Title           string `json:"title,omitempty"`
	ReadOnlyHint    *bool  `json:"readOnlyHint,omitempty"`
	DestructiveHint *bool  `json:"destructiveHint,omitempty"`
	IdempotentHint  *bool  `json:"idempotentHint,omitempty"`
	OpenWorldHint   *bool  `json:"openWorldHint,omitempty"`
}

// CallToolResult is the result of tools/call. A tool that failed is a result with IsError
// set, not an error.
type CallToolResult struct {
	Content           []Content       `json:"content"`
	StructuredContent json.RawMessage `json:"structuredContent,omitempty"`
	IsError           bool            `json:"isError,omitempty"`
	Meta              json.RawMessage `json:"_meta,omitempty"`
	// Raw is the whole result as the server sent it.
	Raw json.RawMessage `json:"-"`
}

// Text is the text of the result's text blocks, joined with newlines.
func (r *CallToolResult) Text() string { return joinText(r.Content) }

// UnmarshalJSON keeps the whole result in Raw.
func (r *CallToolResult) UnmarshalJSON(b []byte) error {
	if fast, _, _, ok := decodeCallToolResult(b); ok {
		fast.Raw = append(json.RawMessage(nil), b...)
		*r = *fast
		return nil
	}
	return r.unmarshalJSON(b)
}

// unmarshalJSON is UnmarshalJSON through encoding/json alone.
func (r *CallToolResult) unmarshalJSON(b []byte) error {
	type plain CallToolResult
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*r = CallToolResult(p)
	r.Raw = append(json.RawMessage(nil), b...)
	return nil
}

// Content is one content block: Type says which ("text", "image", "audio",
// "resource_link", "resource", or a newer type), and the members of that type are set.
type Content struct {
	Type string `json:"type"`
	// Text of a "text" block.
	Text string `json:"text,omitempty"`
	// Data is the base64 data of an "image" or "audio" block.
	Data string `json:"data,omitempty"`
	// MimeType of an "image", "audio" or "resource_link" block.
	MimeType string `json:"mimeType,omitempty"`
	// URI, Name, Title, Description of a "resource_link" block.
	URI         string `json:"uri,omitempty"`
	Name        string `json:"name,omitempty"`
	Title       string `json:"title,omitempty"`
	Description string `json:"description,omitempty"`
	// Resource is the embedded resource of a "resource" block.
	Resource    *ResourceContents `json:"resource,omitempty"`
	Annotations json.RawMessage   `json:"annotations,omitempty"`
	Meta        json.RawMessage   `json:"_meta,omitempty"`
	// Raw is the whole block as the server sent it (for members and types not modelled).
	Raw json.RawMessage `json:"-"`
}

// TextContent is a text block.
func TextContent(text string) Content { return Content{Type: "text", Text: text} }

// UnmarshalJSON keeps the whole block in Raw.
func (c *Content) UnmarshalJSON(b []byte) error {
	type plain Content
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*c = Content(p)
	c.Raw = append(json.RawMessage(nil), b...)
	return nil
}

// MarshalJSON writes the block's members, or Raw as it is for a type this package does not
// model.
func (c Content) MarshalJSON() ([]byte, error) {
	switch c.Type {
	case "text", "image", "audio", "resource_link", "resource":
	default:
		if len(c.Raw) > 0 {
			return c.Raw, nil
		}
	}
	type plain Content
	return json.Marshal(plain(c))
}

func joinText(blocks []Content) string {
	var parts []string
	for _, b := range blocks {
		if b.Type == "text" {
			parts = append(parts, b.Text)
		}
	}
	return strings.Join(parts, "\n")
}

// Resource is one resource of resources/list.
type Resource struct {
	URI         string          `json:"uri"`
	Name        string          `json:"name"`
	Title       string          `json:"title,omitempty"`
	Description string          `json:"description,omitempty"`
	MimeType    string          `json:"mimeType,omitempty"`
	Size        *int64          `json:"size,omitempty"`
	Annotations json.RawMessage `json:"annotations,omitempty"`
	Meta        json.RawMessage `json:"_meta,omitempty"`
}

// ResourceContents is the contents of a resource: Text, or Blob (base64).
type ResourceContents struct {
	URI      string          `json:"uri"`
	MimeType string          `json:"mimeType,omitempty"`
	Text     string          `json:"text,omitempty"`
	Blob     string          `json:"blob,omitempty"`
	Meta     json.RawMessage `json:"_meta,omitempty"`
}

// ReadResourceResult is the result of resources/read.
type ReadResourceResult struct {
	Contents []ResourceContents `json:"contents"`
	Meta     json.RawMessage    `json:"_meta,omitempty"`
}

// Text is the text of the text contents, joined with newlines.
func (r *ReadResourceResult) Text() string {
	var parts []string
	for _, c := range r.Contents {
		if c.Blob == "" {
			parts = append(parts, c.Text)
		}
	}
	return strings.Join(parts, "\n")
}

// Prompt is one prompt of prompts/list.
type Prompt struct {
	Name        string           `json:"name"`
	Title       string           `json:"title,omitempty"`
	Description string           `json:"description,omitempty"`
	Arguments   []PromptArgument `json:"arguments,omitempty"`
	Meta        json.RawMessage  `json:"_meta,omitempty"`
}

// PromptArgument is one argument a prompt takes.
type PromptArgument struct {
	Name        string `json:"name"`
	Title       string `json:"title,omitempty"`
	Description string `json:"description,omitempty"`
	Required    bool   `json:"required,omitempty"`
}

// GetPromptResult is the result of prompts/get.
type GetPromptResult struct {
	Description string          `json:"description,omitempty"`
	Messages    []PromptMessage `json:"messages"`
	Meta        json.RawMessage `json:"_meta,omitempty"`
}

// PromptMessage is one message of a prompt.
type PromptMessage struct {
	Role    string  `json:"role"` // "user" or "assistant"
	Content Content `json:"content"`
}

// ServerInfo is what the handshake settled.
type ServerInfo struct {
	ProtocolVersion string `json:"protocolVersion"`
	// Transport is "streamable-http", "http+sse" or "stdio".
	Transport string `json:"transport"`
	// SessionID is the HTTP session, or "".
	SessionID string `json:"sessionId"`
	// Server is the server's initialize result.
	Server InitializeResult `json:"server"`
}

// InitializeResult is the server's side of the handshake.
type InitializeResult struct {
	ServerInfo   Implementation  `json:"serverInfo"`
	Capabilities json.RawMessage `json:"capabilities,omitempty"`
	Instructions string          `json:"instructions,omitempty"`
}

// Implementation names a client or server.
type Implementation struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Title   string `json:"title,omitempty"`
}

// AuthStatus is what the OAuth engine holds now; never a secret.
type AuthStatus struct {
	Resource        string    // the resource the tokens are for
	Issuer          string    // the authorization server
	ClientID        string    // the client id
	Registration    string    // how the client was registered
	HasToken        bool      // whether an access token is held
	HasRefreshToken bool      // whether a refresh token is held
	TokenType       string    // "Bearer" or "DPoP"
	ExpiresAt       time.Time // the access token's expiry (zero: unknown or none)
	Scopes          []string  // the scopes granted
}

// UnmarshalJSON reads the library's status object.
func (a *AuthStatus) UnmarshalJSON(b []byte) error {
	var w struct {
		Resource        *string  `json:"resource"`
		Issuer          *string  `json:"issuer"`
		ClientID        *string  `json:"client_id"`
		Registration    *string  `json:"registration"`
		HasToken        bool     `json:"has_token"`
		HasRefreshToken bool     `json:"has_refresh_token"`
		TokenType       *string  `json:"token_type"`
		ExpiresAt       *int64   `json:"expires_at"`
		Scopes          []string `json:"scopes"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*a = AuthStatus{
		Resource:        deref(w.Resource),
		Issuer:          deref(w.Issuer),
		ClientID:        deref(w.ClientID),
		Registration:    deref(w.Registration),
		HasToken:        w.HasToken,
		HasRefreshToken: w.HasRefreshToken,
		TokenType:       deref(w.TokenType),
		ExpiresAt:       unixTime(w.ExpiresAt),
		Scopes:          w.Scopes,
	}
	return nil
}

// AuthEvent is one step of authorization, for a host to show (OAuth.OnEvent). Event names
// it: "sign_in_required", "browser_opened", "signed_in", "token_refreshed",
// "token_adopted", "step_up", "refresh_failed", "store_selected", "logged_out" (more may
// come). The other fields are set where the event has them; never a token or a secret.
type AuthEvent struct {
	Event       string
	Server      string    // the MCP server
	Issuer      string    // the authorization server
	Grant       string    // the grant ("authorization_code", "client_credentials", ...)
	Scopes      []string  // the scopes asked for or granted
	Required    []string  // step_up: the scopes the server says the request needs
	RedirectURI string    // browser_opened: where the browser will be sent back
	ExpiresAt   time.Time // the access token's expiry (zero: unknown)
	TokenType   string    // "Bearer" or "DPoP"
	Reason      string    // refresh_failed: why
	Store       string    // store_selected: the store's name
	Fallback    string    // store_selected: why this store stands in for the OS keyring
	Revoked     bool      // logged_out: whether the tokens were revoked
	// Raw is the event as the library delivered it (a JSON object).
	Raw json.RawMessage
}

// UnmarshalJSON reads the library's event object.
func (a *AuthEvent) UnmarshalJSON(b []byte) error {
	var w struct {
		Event       string   `json:"event"`
		Server      string   `json:"server"`
		Issuer      string   `json:"issuer"`
		Grant       string   `json:"grant"`
		Scopes      []string `json:"scopes"`
		Required    []string `json:"required"`
		RedirectURI string   `json:"redirect_uri"`
		ExpiresAt   *int64   `json:"expires_at"`
		TokenType   string   `json:"token_type"`
		Reason      string   `json:"reason"`
		Store       string   `json:"store"`
		Fallback    *string  `json:"fallback"`
		Revoked     bool     `json:"revoked"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*a = AuthEvent{
		Event: w.Event, Server: w.Server, Issuer: w.Issuer, Grant: w.Grant, Scopes: w.Scopes,
		Required: w.Required, RedirectURI: w.RedirectURI, ExpiresAt: unixTime(w.ExpiresAt),
		TokenType: w.TokenType, Reason: w.Reason, Store: w.Store, Fallback: deref(w.Fallback),
		Revoked: w.Revoked, Raw: append(json.RawMessage(nil), b...),
	}
	return nil
}

// DeviceCode is a device-flow sign-in to show (OAuth.DeviceCodeDisplay): the user visits
// VerificationURI (or VerificationURIComplete, which has the code filled in; "" when the
// server gives none) and enters UserCode within ExpiresIn.
type DeviceCode struct {
	VerificationURI         string
	VerificationURIComplete string
	UserCode                string
	ExpiresIn               time.Duration
}

// ElicitRequest is a server's elicitation/create request.
type ElicitRequest struct {
	// Mode is "form" (or "" from older servers) or "url".
	Mode    string `json:"mode,omitempty"`
	Message string `json:"message"`
	// RequestedSchema is the JSON Schema of the form's content (form mode).
	RequestedSchema json.RawMessage `json:"requestedSchema,omitempty"`
	// URL and ElicitationID of a URL-mode elicitation.
	URL           string `json:"url,omitempty"`
	ElicitationID string `json:"elicitationId,omitempty"`
	// Raw is the request's params as the server sent them.
	Raw json.RawMessage `json:"-"`
}

// ElicitResult answers an elicitation. Action is "accept" (with Content, whose missing
// members the library fills from the schema's defaults), "decline" or "cancel".
type ElicitResult struct {
	Action  string         `json:"action"`
	Content map[string]any `json:"content,omitempty"`
}

// SamplingRequest is a server's sampling/createMessage request.
type SamplingRequest struct {
	Messages         []SamplingMessage `json:"messages"`
	SystemPrompt     string            `json:"systemPrompt,omitempty"`
	MaxTokens        int               `json:"maxTokens"`
	Temperature      *float64          `json:"temperature,omitempty"`
	StopSequences    []string          `json:"stopSequences,omitempty"`
	IncludeContext   string            `json:"includeContext,omitempty"`
	ModelPreferences json.RawMessage   `json:"modelPreferences,omitempty"`
	Metadata         json.RawMessage   `json:"metadata,omitempty"`
	// Raw is the request's params as the server sent them.
	Raw json.RawMessage `json:"-"`
}

// SamplingMessage is one message of a sampling request. Content holds its block, or its
// blocks when the server sent a list.
type SamplingMessage struct {
	Role    string    `json:"role"`
	Content []Content `json:"content"`
}

// UnmarshalJSON takes the content as one block or a list of blocks.
func (m *SamplingMessage) UnmarshalJSON(b []byte) error {
	var w struct {
		Role    string          `json:"role"`
		Content json.RawMessage `json:"content"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	m.Role, m.Content = w.Role, nil
	if len(w.Content) > 0 && w.Content[0] == '[' {
		return json.Unmarshal(w.Content, &m.Content)
	}
	var one Content
	if len(w.Content) > 0 {
		if err := json.Unmarshal(w.Content, &one); err != nil {
			return err
		}
		m.Content = []Content{one}
	}
	return nil
}

// Text is the text of the message's text blocks, joined with newlines.
func (m SamplingMessage) Text() string { return joinText(m.Content) }

// SamplingResult answers a sampling request.
type SamplingResult struct {
	Role       string  `json:"role"` // "" means "assistant"
	Content    Content `json:"content"`
	Model      string  `json:"model"`
	StopReason string  `json:"stopReason,omitempty"`
}

// TaskStatus is the status of a task (protocol 2025-11-25). TaskCompleted, TaskFailed and
// TaskCancelled are terminal: a task never leaves them. A status this package does not know
// comes through as the server sent it.
type TaskStatus string

// The statuses of a task.
const (
	// TaskWorking: the request is being processed.
	TaskWorking TaskStatus = "working"
	// TaskInputRequired: the server needs input from the client; its requests (elicitation,
	// sampling) reach the client's handlers while TaskResult waits.
	TaskInputRequired TaskStatus = "input_required"
	// TaskCompleted: done, the result is ready (terminal).
	TaskCompleted TaskStatus = "completed"
	// TaskFailed: the request did not succeed, a tool error included (terminal).
	TaskFailed TaskStatus = "failed"
	// TaskCancelled: cancelled before it completed (terminal).
	TaskCancelled TaskStatus = "cancelled"
)

// Terminal reports whether the status is final: TaskCompleted, TaskFailed or TaskCancelled.
func (s TaskStatus) Terminal() bool {
	return s == TaskCompleted || s == TaskFailed || s == TaskCancelled
}

// Task is the state of a task on the server (protocol 2025-11-25): what StartToolTask,
// TaskStatus and CancelTask return and ListTasks lists. It also decodes the params of a
// notifications/tasks/status notification.
type Task struct {
	// TaskID is the task's id, chosen by the server: pass it to TaskStatus, TaskResult and
	// CancelTask.
	TaskID string
	// Status is the task's status when this state was taken.
	Status TaskStatus
	// StatusMessage describes the status for people (for a failed task, what went wrong), or "".
	StatusMessage string
	// CreatedAt is when the task was created (zero when the server's timestamp is not
	// RFC 3339; Raw has it as sent).
	CreatedAt time.Time
	// LastUpdatedAt is when the task last changed (zero, likewise, when it does not parse).
	LastUpdatedAt time.Time
	// TTL is how long the server keeps the task from its creation, then forgets it (the
	// protocol's ttl, in milliseconds); 0 when the server keeps it without limit (ttl null).
	TTL time.Duration
	// PollInterval is the pause between polls of TaskStatus the server suggests (the
	// protocol's pollInterval, in milliseconds); 0 when it suggests none.
	PollInterval time.Duration
	// ModelImmediateResponse is set by StartToolTask only: the text the server suggests
	// giving the model at once while the task runs (the CreateTaskResult's _meta
	// "io.modelcontextprotocol/model-immediate-response"), or "".
	ModelImmediateResponse string
	// Meta is the task's _meta, or nil.
	Meta json.RawMessage
	// Raw is the Task object as the library passed it on (timestamps as the server sent
	// them, durations in milliseconds, members this package does not model).
	Raw json.RawMessage
}

// UnmarshalJSON reads a Task object of the protocol.
func (t *Task) UnmarshalJSON(b []byte) error {
	var w struct {
		TaskID        string          `json:"taskId"`
		Status        TaskStatus      `json:"status"`
		StatusMessage *string         `json:"statusMessage"`
		CreatedAt     string          `json:"createdAt"`
		LastUpdatedAt string          `json:"lastUpdatedAt"`
		TTL           *float64        `json:"ttl"`
		PollInterval  *float64        `json:"pollInterval"`
		Meta          json.RawMessage `json:"_meta"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	if string(w.Meta) == "null" {
		w.Meta = nil
	}
	*t = Task{
		TaskID:        w.TaskID,
		Status:        w.Status,
		StatusMessage: deref(w.StatusMessage),
		CreatedAt:     rfc3339(w.CreatedAt),
		LastUpdatedAt: rfc3339(w.LastUpdatedAt),
		TTL:           millisDuration(w.TTL),
		PollInterval:  millisDuration(w.PollInterval),
		Meta:          w.Meta,
		Raw:           append(json.RawMessage(nil), b...),
	}
	return nil
}

// rfc3339 is the time of an RFC 3339 timestamp, or the zero time.
func rfc3339(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}
	}
	return t
}

// millisDuration is a number of milliseconds (nil or not positive: 0) as a Duration, at most
// the longest Duration.
func millisDuration(ms *float64) time.Duration {
	if ms == nil || !(*ms > 0) {
		return 0
	}
	if *ms >= float64(math.MaxInt64/int64(time.Millisecond)) {
		return math.MaxInt64
	}
	return time.Duration(*ms * float64(time.Millisecond))
}

// Root is one of the client's roots.
type Root struct {
	URI  string `json:"uri"`
	Name string `json:"name,omitempty"`
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func unixTime(secs *int64) time.Time {
	if secs == nil {
		return time.Time{}
	}
	return time.Unix(*secs, 0)
}
