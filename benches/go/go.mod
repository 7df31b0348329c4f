module github.com/mcp-client/mcp-client/benches/go

go 1.24

require github.com/mcp-client/mcp-client/bindings/go v0.0.0

// The package in this tree: nothing is downloaded.
replace github.com/mcp-client/mcp-client/bindings/go => ../../bindings/go
