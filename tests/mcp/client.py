"""An MCP client on the official Python SDK (PyPI `mcp`), driven by the Rust integration tests
(tests/it/mcp): it runs one scenario against a running taskpulse and prints what it saw as one
JSON document on stdout, which the Rust test asserts on.

    client.py SCENARIO URL TOKEN [ARG...]

Scenarios:
  tools URL TOKEN OTHER_EMAIL     every tool, its failures and an unknown tool
  read_only URL TOKEN             a `read` personal access token: reads yes, writes no
  resources URL TOKEN TEAM_ID OTHER_NODE_URL
                                  lists, reads and subscribes to the dashboards; a REST write
                                  on the other node must arrive as notifications/resources/updated
  calls URL TOKEN COUNT RATE      COUNT create_task calls at RATE per second; prints latencies
"""

import asyncio
import json
import sys
import time

import httpx2
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from mcp.shared._httpx_utils import create_mcp_http_client

import mcp.types as types

WAIT = 10.0


def result_of(result):
    """A tool result as plain JSON."""
    return {
        "is_error": bool(result.is_error),
        "structured": result.structured_content,
        "text": [c.text for c in result.content if getattr(c, "type", None) == "text"],
    }


async def call(session, name, arguments):
    try:
        return result_of(await session.call_tool(name, arguments))
    except MCPError as err:
        return {"jsonrpc_error": {"code": err.code, "message": err.message, "data": err.data}}


def connect(url, token):
    client = create_mcp_http_client(headers={"Authorization": f"Bearer {token}"})
    return client, streamable_http_client(url, http_client=client)


async def tools(url, token, other_email):
    client, transport = connect(url, token)
    async with client, transport as (read, write), ClientSession(read, write) as session:
        init = await session.initialize()
        listed = await session.list_tools()
        out = {
            "protocol_version": init.protocol_version,
            "server": init.server_info.name,
            "tools": {
                t.name: {
                    "description": t.description,
                    "input": t.input_schema,
                    "output": t.output_schema,
                    "read_only": t.annotations.read_only_hint if t.annotations else None,
                }
                for t in listed.tools
            },
        }
        created = await call(session, "create_task", {"title": "Written by an assistant", "priority": "high"})
        out["create_task"] = created
        task_id = (created.get("structured") or {}).get("id")
        out["get_task"] = await call(session, "get_task", {"id": task_id})
        out["list_tasks"] = await call(session, "list_tasks", {"status": "pending", "limit": 10})
        out["update_task"] = await call(
            session, "update_task", {"id": task_id, "status": "completed", "expected_version": 1}
        )
        out["stale_update"] = await call(session, "update_task", {"id": task_id, "title": "x", "expected_version": 1})
        out["share_task"] = await call(
            session, "share_task", {"task_id": task_id, "email": other_email, "permission": "view"}
        )
        out["list_teams"] = await call(session, "list_teams", {})
        out["get_statistics"] = await call(session, "get_statistics", {})
        out["get_trends"] = await call(session, "get_trends", {"interval": "day"})
        out["delete_task"] = await call(session, "delete_task", {"id": task_id})
        out["get_deleted"] = await call(session, "get_task", {"id": task_id})
        out["blank_title"] = await call(session, "create_task", {"title": "   "})
        out["wrong_type"] = await call(session, "create_task", {"title": 5})
        out["bad_status"] = await call(session, "list_tasks", {"status": "done"})
        out["unknown_argument"] = await call(session, "get_statistics", {"team": "x"})
        out["not_a_uuid"] = await call(session, "get_task", {"id": "seven"})
        out["unknown_tool"] = await call(session, "make_coffee", {})
        return out


async def read_only(url, token):
    client, transport = connect(url, token)
    async with client, transport as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        return {
            "list_tasks": await call(session, "list_tasks", {}),
            "create_task": await call(session, "create_task", {"title": "not allowed"}),
        }


def dashboard(read_result):
    return json.loads(read_result.contents[0].text)


async def resources(url, token, team_id, other_node):
    updates = asyncio.Queue()

    async def on_message(message):
        if isinstance(message, types.ResourceUpdatedNotification):
            await updates.put((time.monotonic(), message.params.uri))

    client, transport = connect(url, token)
    async with client, transport as (read, write), ClientSession(read, write, message_handler=on_message) as session:
        await session.initialize()
        out = {}
        listed = await session.list_resources()
        out["resources"] = [{"uri": str(r.uri), "mime_type": r.mime_type} for r in listed.resources]
        templates = await session.list_resource_templates()
        out["templates"] = [t.uri_template for t in templates.resource_templates]
        user_uri = "taskpulse://dashboard/user"
        team_uri = f"taskpulse://dashboard/team/{team_id}"
        first = await session.read_resource(user_uri)
        out["mime_type"] = first.contents[0].mime_type
        out["before"] = dashboard(first)
        out["team"] = dashboard(await session.read_resource(team_uri))
        try:
            await session.read_resource("taskpulse://dashboard/team/00000000-0000-7000-8000-000000000000")
            out["unknown_team"] = None
        except MCPError as err:
            out["unknown_team"] = {"code": err.code, "data": err.data}
        await session.subscribe_resource(user_uri)
        # The write, on the other node, over REST.
        async with httpx2.AsyncClient() as rest:
            written_at = time.monotonic()
            response = await rest.post(
                f"{other_node}/api/v1/tasks",
                json={"title": "written on the other node"},
                headers={"Authorization": f"Bearer {token}"},
            )
            out["write_status"] = response.status_code
        try:
            arrived_at, uri = await asyncio.wait_for(updates.get(), WAIT)
            out["updated_uri"] = uri
            out["latency_ms"] = (arrived_at - written_at) * 1000
        except TimeoutError:
            out["updated_uri"] = None
        out["after"] = dashboard(await session.read_resource(user_uri))
        return out


async def calls(url, token, count, rate):
    """`count` create_task calls, one every 1/rate s (open loop), each timed alone."""
    client, transport = connect(url, token)
    async with client, transport as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        await session.list_tools()
        latencies = []
        failures = 0

        async def one(i):
            nonlocal failures
            started = time.perf_counter()
            result = await session.call_tool("create_task", {"title": f"bench {i}"})
            latencies.append((time.perf_counter() - started) * 1000)
            failures += bool(result.is_error)

        start = time.perf_counter()
        pending = []
        for i in range(count):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            pending.append(asyncio.create_task(one(i)))
        await asyncio.gather(*pending)
        return {"latencies_ms": latencies, "failures": failures, "seconds": time.perf_counter() - start}


async def main(argv):
    scenario, url, token, *rest = argv
    if scenario == "tools":
        out = await tools(url, token, *rest)
    elif scenario == "read_only":
        out = await read_only(url, token)
    elif scenario == "resources":
        out = await resources(url, token, *rest)
    elif scenario == "calls":
        out = await calls(url, token, int(rest[0]), float(rest[1]))
    else:
        raise SystemExit(f"unknown scenario {scenario}")
    print(json.dumps(out))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
