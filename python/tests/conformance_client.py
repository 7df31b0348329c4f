"""The client the official MCP conformance suite drives, over the Python package.

The Python twin of `cli/src/bin/mcp-conformance-client.rs`: the same scenarios, the same calls,
the same OAuth settings, so a pass here is a pass for the Python binding as well as the core.

Contract (see `tests/conformance/run.mjs`): the server URL is the last argument;
`MCP_CONFORMANCE_SCENARIO` names the scenario, `MCP_CONFORMANCE_PROTOCOL_VERSION` (alpha suite)
the protocol version to speak, `MCP_CONFORMANCE_CONTEXT` carries JSON for scenarios that need
inputs. It exits 0 when the scenario's steps all succeeded, else 1 with the reason on stderr.

    python python/tests/conformance_client.py http://localhost:1234/mcp

Not a pytest module (pytest collects test_*.py); importing it does nothing.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from typing import Any, Dict, List, Optional

from mcp_client import Client, EnterpriseManaged, JwtBearer, McpError, OAuth
from mcp_client.types import CallToolResult

#: `mcp_client::protocol::LATEST_STATEFUL`, which the Rust client pins when the suite names no
#: version. Pinned here too: left unset, the core would first probe for the stateless revision
#: (`server/discover`), which the Rust client never does.
LATEST_STATEFUL = "2025-11-25"

CLIENT_NAME = "mcp-client-conformance"
CLIENT_METADATA_URL = "https://conformance-test.local/client-metadata.json"


class ScenarioFailed(Exception):
    """A step of the scenario did not do what it should."""


def context() -> Dict[str, Any]:
    """The scenario's inputs (an empty dict when there are none or they do not parse)."""
    try:
        ctx = json.loads(os.environ.get("MCP_CONFORMANCE_CONTEXT", ""))
    except ValueError:
        return {}
    return ctx if isinstance(ctx, dict) else {}


def oauth_config(scenario: str) -> OAuth:
    """The OAuth settings a scenario calls for: the suite's authorization servers approve at
    once, so the authorization URL is followed headlessly; credentials come from the context."""
    ctx = context()

    def s(key: str) -> Optional[str]:
        v = ctx.get(key)
        return v if isinstance(v, str) else None

    common: Dict[str, Any] = dict(
        presenter="headless",
        client_metadata_url=CLIENT_METADATA_URL,
        client_name=CLIENT_NAME,
        # Every scenario starts fresh; nothing of a mock server's is kept.
        store="memory",
    )
    if scenario == "auth/client-credentials-basic":
        return OAuth(
            client_id=s("client_id") or "",
            client_secret=s("client_secret"),
            grant="client_credentials",
            **common,
        )
    if scenario == "auth/client-credentials-jwt":
        return OAuth(
            client_id=s("client_id") or "",
            private_key_pem=s("private_key_pem") or "",
            private_key_alg=s("signing_algorithm"),
            grant="client_credentials",
            **common,
        )
    if scenario == "auth/wif-jwt-bearer":
        return OAuth(
            client_id=s("client_id") or "",
            grant=JwtBearer(assertion=s("valid_jwt") or ""),
            **common,
        )
    if scenario in ("auth/cross-app-access-complete-flow", "auth/enterprise-managed-authorization"):
        return OAuth(
            client_id=s("client_id") or "",
            client_secret=s("client_secret"),
            grant=EnterpriseManaged(
                idp_token_endpoint=s("idp_token_endpoint") or "",
                idp_client_id=s("idp_client_id") or "",
                subject_token=s("idp_id_token") or "",
                idp_client_secret=None,
                subject_token_type="urn:ietf:params:oauth:token-type:id_token",
            ),
            **common,
        )
    client_id = s("client_id")
    if client_id is not None:
        return OAuth(client_id=client_id, client_secret=s("client_secret"), **common)
    return OAuth(**common)


def on_elicitation(_params: Dict[str, Any]) -> Dict[str, Any]:
    # Accept every form; the library fills in the schema's defaults.
    return {"action": "accept", "content": {}}


def on_sampling(_params: Dict[str, Any]) -> Dict[str, Any]:
    return {
        "role": "assistant",
        "content": {"type": "text", "text": "conformance sample"},
        "model": "none",
        "stopReason": "endTurn",
    }


def on_roots(_params: Dict[str, Any]) -> Dict[str, Any]:
    return {"roots": []}


def connect(url: str, scenario: str) -> Client:
    return Client(
        url,
        oauth=oauth_config(scenario),
        client_name=CLIENT_NAME,
        protocol_version=os.environ.get("MCP_CONFORMANCE_PROTOCOL_VERSION", LATEST_STATEFUL),
        on_elicitation=on_elicitation,
        on_sampling=on_sampling,
        on_roots=on_roots,
    )


def tool_failed(name: str, result: CallToolResult) -> None:
    if result.get("isError") is True:
        raise ScenarioFailed(f"tool `{name}` reported an error: {json.dumps(result)}")


def sample_arguments(schema: Any) -> Dict[str, Any]:
    """Arguments that satisfy a simple schema: each property a plausible value of its type."""
    samples = {"string": "us-west1", "integer": 1, "number": 1.5, "boolean": True}
    props = schema.get("properties") if isinstance(schema, dict) else None
    if not isinstance(props, dict):
        return {}
    return {
        name: samples[p["type"]]
        for name, p in props.items()
        if isinstance(p, dict) and isinstance(p.get("type"), str) and p["type"] in samples
    }


def names(items: List[Any]) -> List[str]:
    return [i["name"] for i in items if isinstance(i, dict) and isinstance(i.get("name"), str)]


def drive(client: Client, scenario: str) -> None:
    tools = client.list_tools()
    if scenario in ("initialize", "request-metadata", "json-schema-ref-no-deref"):
        return
    if scenario == "tools_call":
        tool_failed("add_numbers", client.call_tool("add_numbers", {"a": 2, "b": 3}))
    elif scenario == "elicitation-sep1034-client-defaults":
        name = "test_client_elicitation_defaults"
        tool_failed(name, client.call_tool(name, {}))
    elif scenario == "sse-retry":
        tool_failed("test_reconnection", client.call_tool("test_reconnection", {}))
    elif scenario == "json-schema-2020-12-preservation":
        schema = next(
            (t.get("inputSchema") for t in tools if t.get("name") == "json_schema_2020_12_tool"),
            None,
        )
        if schema is None:
            raise ScenarioFailed("json_schema_2020_12_tool not listed")
        client.call_tool("json_schema_echo", {"schema": schema})
    elif scenario == "sep-2322-client-request-state":
        for name in (
            "test_mrtr_echo_state",
            "test_mrtr_no_state",
            "test_mrtr_unrelated",
            "test_mrtr_no_result_type",
        ):
            tool_failed(name, client.call_tool(name, {}))
    elif scenario == "http-standard-headers":
        for name in names(tools):
            client.call_tool(name, {})
        resources = client.list_resources()
        if resources and isinstance(resources[0].get("uri"), str):
            client.read_resource(resources[0]["uri"])
        for name in names(client.list_prompts()):
            client.get_prompt(name, {})
    elif scenario == "http-custom-headers":
        calls = context().get("toolCalls")
        for call in calls if isinstance(calls, list) else []:
            tool = call.get("name") if isinstance(call, dict) else None
            args = call.get("arguments") if isinstance(call, dict) else None
            client.call_tool(
                tool if isinstance(tool, str) else "", args if isinstance(args, dict) else None
            )
    elif scenario == "http-invalid-tool-headers":
        # Only tools that survived the library's x-mcp-header validation are listed.
        for t in tools:
            if isinstance(t.get("name"), str):
                client.call_tool(t["name"], sample_arguments(t.get("inputSchema")))
    elif any(t.get("name") == "test-tool" for t in tools):
        # Auth and other scenarios: list the tools (done) and call the test tool if there.
        tool_failed("test-tool", client.call_tool("test-tool", {}))


def run(url: str, scenario: str) -> None:
    client = connect(url, scenario)
    try:
        drive(client, scenario)
    finally:
        # Ending the session is best effort; the scenario's verdict is the calls above.
        try:
            client.close()
        except McpError:
            pass


def main(argv: List[str]) -> int:
    # The core's records on stderr: warnings and above unless MCP_LOG names a level (as the
    # Rust client's default; MCP_LOG=debug shows the whole exchange).
    levels = {"trace": 1, "debug": logging.DEBUG, "info": logging.INFO, "warn": logging.WARNING,
              "warning": logging.WARNING, "error": logging.ERROR}
    level = levels.get(os.environ.get("MCP_LOG", "").strip().lower(), logging.WARNING)
    logging.basicConfig(level=level, stream=sys.stderr, format="%(name)s: %(message)s")
    # The runner appends the server URL as the last argument.
    if len(argv) < 2:
        print("usage: conformance_client.py <server-url>", file=sys.stderr)
        return 2
    url = argv[-1]
    scenario = os.environ.get("MCP_CONFORMANCE_SCENARIO", "")
    try:
        run(url, scenario)
    except (McpError, ScenarioFailed) as e:
        print(f"conformance_client.py: {scenario}: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
