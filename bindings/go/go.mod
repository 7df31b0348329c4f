module github.com/mcp-client/mcp-client/bindings/go

go 1.24
