"""List a server's tools and call one, with the asyncio AsyncClient.

    python async_example.py http://127.0.0.1:8000/mcp

The server must have an `echo` tool (the project's test server, target/debug/mcp-test-server,
does: it prints its URL on its first line of output).
"""

import asyncio
import sys

from mcp_client import AsyncClient, McpError


async def main(url: str) -> int:
    try:
        async with AsyncClient(url, timeout=30) as client:
            tools = await client.list_tools()
            print("tools:", ", ".join(t["name"] for t in tools))
            result = await client.call_tool("echo", {"text": "hi"})
    except McpError as e:
        print(f"failed: {e}", file=sys.stderr)
        return 1
    if result.get("isError"):
        print("the tool failed:", result["content"], file=sys.stderr)
        return 1
    for block in result["content"]:
        if block["type"] == "text":
            print("echo:", block["text"])
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} SERVER_URL")
    sys.exit(asyncio.run(main(sys.argv[1])))
