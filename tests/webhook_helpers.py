"""Shared steps of the consent webhook tests (issue 19): a processor's receiver (a real HTTP
server in the test's event loop), the GraphQL documents, and an endpoint registered through
an app that lets plain http reach this machine."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from tests.conftest import GraphQL
from tests.notification_helpers import free_port

CREATE = """
mutation($i: CreateConsentWebhookInput!) {
  createConsentWebhook(input: $i) {
    webhook { id url purposes includePersonalData enabled lastSequence }
    secret
    errors { code field message }
  }
}
"""

ROTATE = """
mutation($i: RotateConsentWebhookSecretInput!) {
  rotateConsentWebhookSecret(input: $i) { secret webhook { id } errors { code field } }
}
"""

DISABLE = """
mutation($i: DisableConsentWebhookInput!) {
  disableConsentWebhook(input: $i) { webhook { id enabled } errors { code field } }
}
"""

DELETE = """
mutation($i: DeleteConsentWebhookInput!) {
  deleteConsentWebhook(input: $i) { deletedId errors { code field } }
}
"""

REPLAY = """
mutation($i: ReplayConsentWebhookInput!) {
  replayConsentWebhook(input: $i) { replayed webhook { id lastSequence } errors { code field } }
}
"""

WEBHOOKS = "{ consentWebhooks { id url purposes enabled lastSequence } }"

DELIVERIES = """
query($id: ID!, $state: WebhookDeliveryState) {
  consentWebhookDeliveries(webhookId: $id, state: $state, first: 50) {
    edges { node { id sequence messageId eventType purpose state attempts lastError } }
  }
}
"""


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict[str, Any]:
        return orjson.loads(self.body)

    @property
    def data(self) -> dict[str, Any]:
        return self.json["data"]


@dataclass
class Receiver:
    """What the processor's endpoint received, and how it answers: ``answers`` is consumed
    one status per request, then ``status`` is used. Only accepted requests (2xx) count as
    received; ``refused`` holds the others."""

    url: str = ""
    received: list[Received] = field(default_factory=list)
    refused: list[Received] = field(default_factory=list)
    status: int = 200
    answers: list[int] = field(default_factory=list)


@contextlib.asynccontextmanager
async def receiver() -> AsyncIterator[Receiver]:
    """A real HTTP server (Starlette on uvicorn, 127.0.0.1, a free port) in this event loop."""
    state = Receiver()

    async def receive(request: Request) -> PlainTextResponse:
        status = state.answers.pop(0) if state.answers else state.status
        got = Received(dict(request.headers), await request.body())
        (state.received if status < 300 else state.refused).append(got)
        return PlainTextResponse("ok" if status < 300 else "try later", status_code=status)

    app = Starlette(routes=[Route("/consent", receive, methods=["POST"])])
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    task = asyncio.create_task(server.serve())
    for _ in range(500):
        if server.started:
            break
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    else:
        raise AssertionError("the receiver did not start")
    state.url = f"http://127.0.0.1:{port}/consent"
    try:
        yield state
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)


async def create_webhook(
    gql: GraphQL, token: str, url: str, purposes: list[str], **given: Any
) -> dict[str, Any]:
    body = await gql(CREATE, {"i": {"url": url, "purposes": purposes, **given}}, token=token)
    return body["data"]["createConsentWebhook"]


@contextlib.asynccontextmanager
async def local_http(app_with) -> AsyncIterator[GraphQL]:
    """GraphQL through an app that lets plain http reach this machine (a dev setting)."""
    async with app_with(webhook_allow_local_http=True) as http:
        yield GraphQL(http)


async def deliveries(gql: GraphQL, token: str, webhook_id: str, state: str | None = None):
    body = await gql(DELIVERIES, {"id": webhook_id, "state": state}, token=token)
    edges = body["data"]["consentWebhookDeliveries"]["edges"]
    return sorted((e["node"] for e in edges), key=lambda n: n["sequence"])
