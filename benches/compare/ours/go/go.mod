module github.com/mcp-client/mcp-client/benches/compare/ours/go

go 1.24

require github.com/mcp-client/mcp-client/bindings/go v0.0.0

// The package in this tree (cgo over target/release/libmcp_client.a): nothing is downloaded.
replace github.com/mcp-client/mcp-client/bindings/go => ../../../../bindings/go
