"""A bounded fuzz run of the GraphQL API (hypothesis-graphql): every root field of Query and
Mutation, with generated arguments (NUL and other control characters included, custom
scalars too: ConsentSyncEvent, JSON, DateTime, Upload), signed out, as a USER and as an
ADMIN. Whatever a client sends, the answer is never an HTTP 5xx nor INTERNAL_SERVER_ERROR.

Cases are generated first, with a fixed seed and without I/O, then sent to the app in the
test's event loop (the app's ORM and Redis connections belong to it), so the run is the same
every time. It runs on PostgreSQL, where more inputs fail than on SQLite; on SQLite it is
skipped to save time.
"""

from __future__ import annotations

import json
import string
import time
from pathlib import Path
from typing import Any

import graphql
import hypothesis_graphql
import pytest
from graphql import (
    BooleanValueNode,
    FloatValueNode,
    IntValueNode,
    ListValueNode,
    NameNode,
    NullValueNode,
    ObjectFieldNode,
    ObjectValueNode,
    StringValueNode,
)
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from models.accounts.account import Role
from tests.device_ids import device_id
from tests.personal_helpers import ensure_policy, register

SCHEMA = graphql.build_schema((Path(__file__).parents[1] / "schema.graphql").read_text())
#: Generated operations per root field (each is sent once per identity).
PER_FIELD = 8
SEED = 20_241_212
#: Root fields whose success ends the caller's session: the identity is renewed after them.
SESSION_ENDERS = ("logout", "cancelAccount", "changePassword", "resetPassword", "revokeSession")

# --- custom scalars as GraphQL literals ---------------------------------------------------

NAMES = st.text(string.ascii_letters + "_", min_size=1, max_size=8)
#: Values the rules accept, so that operations get past them and reach the database.
PLAUSIBLE = st.sampled_from(
    [
        "v1",
        "activity_log",
        "essential",
        device_id("device-0001-abc"),
        "alice@example.com",
        "https://example.com/a.png",
        "+14155550123",
        "FR",
        "fuzz-user",
        "correct horse battery staple",
        "1",
        "product",
    ]
)
REFUSED = st.sampled_from(["\x00", "\x01", "\x1b", "\x7f", "\x85", "\x9f"])
#: Hypothesis-graphql draws from all of Unicode, where NUL is one in 65,536: these strings
#: are plausible ones with a refused character put in, or anything.
TEXT = st.one_of(
    PLAUSIBLE,
    st.tuples(PLAUSIBLE, REFUSED, st.integers(0, 20)).map(
        lambda t: t[0][: t[2]] + t[1] + t[0][t[2] :]
    ),
    st.text(max_size=20),
)


def _literal(value: Any) -> Any:
    if value is None:
        return NullValueNode()
    if isinstance(value, bool):
        return BooleanValueNode(value=value)
    if isinstance(value, int):
        return IntValueNode(value=str(value))
    if isinstance(value, float):
        return FloatValueNode(value=repr(value))
    if isinstance(value, str):
        return StringValueNode(value=value)
    if isinstance(value, list):
        return ListValueNode(values=tuple(_literal(v) for v in value))
    return ObjectValueNode(
        fields=tuple(
            ObjectFieldNode(name=NameNode(value=k), value=_literal(v)) for k, v in value.items()
        )
    )


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**31), 2**31) | st.floats(allow_nan=False) | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(NAMES, inner, max_size=3),
    max_leaves=8,
)
DATETIMES = st.one_of(
    st.datetimes().map(lambda d: d.isoformat()),
    st.sampled_from(["2030-01-01T00:00:00+00:00", "2020-01-01T00:00:00Z", "yesterday"]),
    TEXT,
)
SYNC_EVENTS = st.one_of(
    st.fixed_dictionaries(
        {
            "idempotencyKey": st.one_of(st.uuids().map(str), TEXT),
            "purpose": st.one_of(st.sampled_from(["activity_log", "essential"]), TEXT),
            "granted": st.one_of(st.booleans(), JSON_VALUES),
            "policyVersion": st.one_of(st.just("v1"), TEXT),
            "clientTimestamp": DATETIMES,
            "source": st.one_of(st.sampled_from(["IOS", "WEB"]), TEXT),
        }
    ),
    JSON_VALUES,
)
CUSTOM_SCALARS = {
    "String": TEXT.map(_literal),
    "ID": st.one_of(st.integers(-1, 5).map(str), TEXT).map(_literal),
    "DateTime": DATETIMES.map(_literal),
    "JSON": JSON_VALUES.map(_literal),
    "ConsentSyncEvent": SYNC_EVENTS.map(_literal),
    "Upload": st.one_of(TEXT, st.none(), st.integers()).map(_literal),
}


def _root_fields() -> list[str]:
    assert SCHEMA.query_type is not None and SCHEMA.mutation_type is not None
    return [*SCHEMA.query_type.fields, *SCHEMA.mutation_type.fields]


def _generate(field: str) -> list[str]:
    """``PER_FIELD`` operations calling ``field``, the same ones every run."""
    found: list[str] = []

    @seed(SEED)
    @settings(
        max_examples=PER_FIELD,
        database=None,
        phases=[Phase.generate],
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(
        hypothesis_graphql.from_schema(
            SCHEMA, fields=[field], custom_scalars=CUSTOM_SCALARS, allow_x00=True
        )
    )
    def collect(document: str) -> None:
        found.append(document)

    collect()
    return found


def _cases() -> list[tuple[str, str]]:
    return [(field, document) for field in _root_fields() for document in _generate(field)]


# --- the run ------------------------------------------------------------------------------


def _failure(status: int, body: Any) -> bool:
    if status >= 500:
        return True
    results = body if isinstance(body, list) else [body]
    return any(
        (error.get("extensions") or {}).get("code") == "INTERNAL_SERVER_ERROR"
        for result in results
        if isinstance(result, dict)
        for error in result.get("errors") or []
    )


class Identities:
    """A signed-in USER and ADMIN, renewed whenever a fuzzed operation may have ended one."""

    def __init__(self, gql) -> None:
        self.gql = gql
        self.made = 0
        self.tokens: dict[Role, str] = {}

    async def token(self, role: Role | None) -> str | None:
        if role is None:
            return None
        if role not in self.tokens:
            self.made += 1
            user = await register(self.gql, f"fuzz-{role.value.lower()}-{self.made}", role=role)
            self.tokens[role] = user.token
        return self.tokens[role]

    def forget(self, role: Role | None) -> None:
        self.tokens.pop(role, None)  # type: ignore[arg-type]


@pytest.fixture
def postgres_only(backend):
    if backend != "postgres":
        pytest.skip("the fuzz run is for PostgreSQL (CI runs it there)")


async def test_fuzzed_operations_never_fail_on_the_server(postgres_only, gql, raw_client):
    started = time.monotonic()
    await ensure_policy("v1")
    cases = _cases()
    assert {field for field, _ in cases} == set(_root_fields())
    identities = Identities(gql)
    failures = []
    for index, (field, document) in enumerate(cases):
        role = (None, Role.USER, Role.ADMIN)[index % 3]
        for who in (None, role) if role else (None,):
            token = await identities.token(who)
            headers = {"content-type": "application/json"}
            if token:
                headers["authorization"] = f"Bearer {token}"
            response = await raw_client.post(
                "/graphql", content=json.dumps({"query": document}), headers=headers
            )
            body = response.json() if "json" in response.headers.get("content-type", "") else {}
            if _failure(response.status_code, body):
                failures.append((field, who, document, response.status_code, response.text))
            if who is not None and field in SESSION_ENDERS:
                identities.forget(who)
    elapsed = time.monotonic() - started
    assert failures == [], "\n\n".join(map(repr, failures[:10]))
    assert len(cases) >= 200 and elapsed < 120, (len(cases), elapsed)


def _uploads() -> list[tuple[bytes, str, str]]:
    found: list[tuple[bytes, str, str]] = []

    @seed(SEED)
    @settings(max_examples=40, database=None, phases=[Phase.generate], deadline=None)
    @given(
        data=st.binary(max_size=256),
        filename=st.text(max_size=20),
        content_type=st.sampled_from(["image/png", "image/jpeg", "text/plain", "", "\x00"]),
    )
    def collect(data: bytes, filename: str, content_type: str) -> None:
        found.append((data, filename, content_type))

    collect()
    return found


async def test_fuzzed_uploads_never_fail_on_the_server(postgres_only, gql, raw_client):
    """uploadPicture's file only travels in a multipart request: random bytes, names and
    content types, signed in."""
    user = await register(gql, "fuzz-uploader")
    operations = json.dumps(
        {
            "query": "mutation($input: UploadPictureInput!) { uploadPicture(input: $input) "
            "{ picture { id } errors { code field message } } }",
            "variables": {"input": {"file": None}},
        }
    )
    failures = []
    for data, filename, content_type in _uploads():
        response = await raw_client.post(
            "/graphql",
            data={"operations": operations, "map": json.dumps({"0": ["variables.input.file"]})},
            files={"0": (filename, data, content_type)},
            headers={"authorization": f"Bearer {user.token}"},
        )
        body = response.json() if "json" in response.headers.get("content-type", "") else {}
        if _failure(response.status_code, body):
            failures.append((filename, content_type, data[:32], response.text))
    assert failures == [], failures[:5]
