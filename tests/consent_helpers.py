"""Shared steps of the consent-ledger tests (issue 4): users, staff, policies, syncs."""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from models.accounts.account import Account, Role, account_name_index

PASSWORD = "correct horse battery staple"

REGISTER = """
mutation($input: RegisterInput!) {
  register(input: $input) { token account { id } errors { code field } }
}
"""

PUBLISH = """
mutation($input: PublishPolicyInput!) {
  publishPolicy(input: $input) {
    policy {
      version summary url textSha256 publishedAt effectiveAt material changeCategories
      purposes { code }
    }
    errors { code field }
  }
}
"""

SET_CONSENTS = """
mutation($input: SetConsentsInput!) {
  setConsents(input: $input) {
    consents {
      id seq kind granted source deviceId clientTimestamp serverTimestamp idempotencyKey hash
      purpose { code } policyVersion { version }
    }
    errors { code field }
  }
}
"""

ACCEPT = """
mutation($input: AcceptPolicyInput!) { acceptPolicy(input: $input) { errors { code field } } }
"""

SYNC = """
mutation($input: SyncConsentsInput!) {
  syncConsents(input: $input) {
    results { idempotencyKey status code }
    events { id seq kind granted deviceId idempotencyKey purpose { code } }
    cursor
    hasMore
    errors { code field }
  }
}
"""

CONSENTS = """
{ viewer { requiresReconsent consents {
    purpose { code required } granted policyVersion { version } decidedAt source } } }
"""

HISTORY = """
query($first: Int!, $after: String) {
  viewer { consentHistory(first: $first, after: $after) {
    edges { cursor node { id seq kind granted idempotencyKey purpose { code } } }
    pageInfo { hasNextPage endCursor }
  } }
}
"""

VERIFY = """
query($accountId: ID, $deviceId: String) {
  verifyConsentLedger(accountId: $accountId, deviceId: $deviceId) {
    ok checked firstBrokenEventId
  }
}
"""


@dataclass
class User:
    name: str
    token: str
    id: str


async def register(gql, name: str, *, role: Role | None = None) -> User:
    body = await gql(
        REGISTER, {"input": {"accountName": name, "password": PASSWORD, "nickname": name}}
    )
    result = body["data"]["register"]
    assert result["errors"] == [], result
    if role is not None:
        await Account.filter(account_name_index=await account_name_index(name)).update(role=role)
    return User(name, result["token"], result["account"]["id"])


async def officer(gql, name: str = "officer") -> User:
    return await register(gql, name, role=Role.PRIVACY_OFFICER)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def utcnow() -> datetime:
    return datetime.now(UTC)


async def publish(
    gql,
    token: str | None,
    version: str,
    *,
    effective_at: datetime | None = None,
    material: bool = False,
    categories: list[str] | None = None,
    purposes: list[str] | None = None,
    text: str | None = None,
    url: str | None = None,
    text_sha256: str | None = None,
    summary: str = "What changed, in short.",
) -> dict[str, Any]:
    """publishPolicy's payload (policy and errors). By default: text, effective a second ago."""
    given: dict[str, Any] = {
        "version": version,
        "summary": summary,
        "effectiveAt": iso(effective_at or utcnow() - timedelta(seconds=1)),
        "material": material,
        "changeCategories": categories or [],
        "purposes": purposes or [],
    }
    if text is None and url is None:
        text = f"The privacy policy, version {version}."
    for name, value in (("text", text), ("url", url), ("textSha256", text_sha256)):
        if value is not None:
            given[name] = value
    body = await gql(PUBLISH, {"input": given}, token=token)
    return body["data"]["publishPolicy"]


async def published(gql, token: str, version: str, **options: Any) -> dict[str, Any]:
    result = await publish(gql, token, version, **options)
    assert result["errors"] == [], result
    return result["policy"]


async def set_consents(
    gql,
    decisions: dict[str, bool],
    *,
    version: str = "v1",
    token: str | None = None,
    device_id: str | None = None,
    source: str = "WEB",
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    given: dict[str, Any] = {
        "policyVersion": version,
        "decisions": [{"purpose": p, "granted": g} for p, g in decisions.items()],
        "source": source,
    }
    if device_id is not None:
        given["deviceId"] = device_id
    body = await gql(SET_CONSENTS, {"input": given}, token=token, headers=headers)
    return body["data"]["setConsents"]


async def accept(gql, version: str, *, token: str | None = None, device_id: str | None = None):
    given: dict[str, Any] = {"policyVersion": version}
    if device_id is not None:
        given["deviceId"] = device_id
    body = await gql(ACCEPT, {"input": given}, token=token)
    return body["data"]["acceptPolicy"]["errors"]


def event(
    purpose: str,
    granted: bool,
    *,
    version: str = "v1",
    at: datetime | None = None,
    key: str | None = None,
    source: str = "IOS",
) -> dict[str, Any]:
    """One offline decision as a mobile client sends it."""
    return {
        "idempotencyKey": key or str(uuid.uuid4()),
        "purpose": purpose,
        "granted": granted,
        "policyVersion": version,
        "clientTimestamp": iso(at or utcnow()),
        "source": source,
    }


async def sync(
    gql,
    events: list[dict[str, Any]],
    *,
    device_id: str,
    token: str | None = None,
    since: str | None = None,
) -> dict[str, Any]:
    given: dict[str, Any] = {"deviceId": device_id, "events": events}
    if since is not None:
        given["since"] = since
    body = await gql(SYNC, {"input": given}, token=token)
    return body["data"]["syncConsents"]


async def consents(gql, token: str) -> dict[str, dict[str, Any]]:
    """viewer.consents by purpose code."""
    body = await gql(CONSENTS, token=token)
    return {row["purpose"]["code"]: row for row in body["data"]["viewer"]["consents"]}


async def requires_reconsent(gql, token: str) -> bool:
    return (await gql(CONSENTS, token=token))["data"]["viewer"]["requiresReconsent"]


async def verify(gql, token: str, *, account_id: str | None = None, device_id: str | None = None):
    body = await gql(VERIFY, {"accountId": account_id, "deviceId": device_id}, token=token)
    return body["data"]["verifyConsentLedger"]


def codes(errors: list[dict[str, Any]]) -> list[str]:
    return [e["code"] for e in errors]


# --- graphql-transport-ws over plain ASGI ----------------------------------------------------


class WebSocketSession:
    """A graphql-transport-ws client talking to the ASGI app in this event loop (no server,
    no thread: the app's ORM and Redis connections belong to the test's loop)."""

    def __init__(self, app: Any, path: str = "/graphql") -> None:
        self.app = app
        self.path = path
        self.to_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.from_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.task: asyncio.Task | None = None

    async def __aenter__(self) -> WebSocketSession:
        scope = {
            "type": "websocket",
            "asgi": {"version": "3.0"},
            "scheme": "ws",
            "http_version": "1.1",
            "path": self.path,
            "raw_path": self.path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [
                (b"host", b"accord.test"),
                (b"sec-websocket-protocol", b"graphql-transport-ws"),
            ],
            "client": ("203.0.113.9", 40001),
            "server": ("accord.test", 80),
            "subprotocols": ["graphql-transport-ws"],
            "state": {},
        }
        self.task = asyncio.create_task(self.app(scope, self.to_app.get, self.from_app.put))
        await self.to_app.put({"type": "websocket.connect"})
        accepted = await self._next_raw()
        assert accepted["type"] == "websocket.accept", accepted
        assert accepted.get("subprotocol") == "graphql-transport-ws", accepted
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.to_app.put({"type": "websocket.disconnect", "code": 1000})
        assert self.task is not None
        try:
            await asyncio.wait_for(self.task, 5)
        except (TimeoutError, asyncio.CancelledError):
            self.task.cancel()

    async def _next_raw(self, wait: float = 5) -> dict[str, Any]:
        return await asyncio.wait_for(self.from_app.get(), wait)

    async def send(self, message: dict[str, Any]) -> None:
        await self.to_app.put({"type": "websocket.receive", "text": json.dumps(message)})

    async def receive(self, wait: float = 5) -> dict[str, Any]:
        raw = await self._next_raw(wait)
        assert raw["type"] == "websocket.send", raw
        return json.loads(raw["text"])

    async def nothing_for(self, seconds: float) -> bool:
        """True if the app sends nothing within ``seconds``."""
        try:
            raw = await asyncio.wait_for(self.from_app.get(), seconds)
        except TimeoutError:
            return True
        await self.from_app.put(raw)  # keep it for the caller's next receive()
        return False
