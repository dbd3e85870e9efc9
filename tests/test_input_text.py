"""No string a client sends can reach the database with a character it cannot hold or a reader
would not see: every String and ID argument of every operation, found by walking the schema,
is sent with U+0000 and other refused characters, and answers a typed INVALID naming the
field (the payload's errors for a mutation, a top-level error for a query or a subscription),
on SQLite and PostgreSQL alike. Custom scalars carry strings too: a sync event's strings
reject that event alone, JSON scalars refuse NUL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import graphql
import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
)

from models.accounts.account import Role
from models.consent.ledger import ConsentEvent
from tests.consent_helpers import WebSocketSession, event
from tests.device_ids import device_id
from tests.personal_helpers import (
    ANSWER_QUESTIONNAIRE,
    DEFINE_QUESTIONNAIRE,
    REPORT_ERROR,
    codes,
    ensure_policy,
    image_bytes,
    register,
    upload,
)

SCHEMA = graphql.build_schema((Path(__file__).parents[1] / "schema.graphql").read_text())

NUL = "\x00"
#: Besides NUL: C0 and C1 controls, DEL and a lone surrogate. Tab, newline and carriage
#: return are text (a stack trace, a message typed on Windows) and stay allowed.
OTHER_REFUSED = ["\x01", "\x1b", "\x7f", "\x85", "\x9f", "\ud800"]

FILLER: dict[str, Any] = {
    "String": "filler",
    "ID": "1",
    "Int": 1,
    "Float": 1.0,
    "Boolean": False,
    "DateTime": "2030-01-01T00:00:00+00:00",
    "JSON": {},
}


def _named(type_: Any) -> Any:
    while isinstance(type_, (GraphQLNonNull, GraphQLList)):
        type_ = type_.of_type
    return type_


def _filler(type_: GraphQLInputType) -> Any:
    if isinstance(type_, GraphQLNonNull):
        return _filler(type_.of_type)
    if isinstance(type_, GraphQLList):
        return []
    if isinstance(type_, GraphQLEnumType):
        return next(iter(type_.values))
    if isinstance(type_, GraphQLInputObjectType):
        return {
            name: _filler(field.type)
            for name, field in type_.fields.items()
            if isinstance(field.type, GraphQLNonNull) and field.default_value is graphql.Undefined
        }
    return FILLER[type_.name]


def _slots(type_: GraphQLInputType, path: tuple) -> Iterator[tuple]:
    """Every path from an argument to a String or ID it holds (list items as index 0)."""
    if isinstance(type_, GraphQLNonNull):
        yield from _slots(type_.of_type, path)
    elif isinstance(type_, GraphQLList):
        yield from _slots(type_.of_type, (*path, 0))
    elif isinstance(type_, GraphQLInputObjectType):
        for name, field in type_.fields.items():
            yield from _slots(field.type, (*path, name))
    elif isinstance(type_, GraphQLScalarType) and type_.name in ("String", "ID"):
        yield path


def _with(value: Any, type_: GraphQLInputType, path: tuple, text: str) -> Any:
    """``value`` (a filler) with ``text`` put at ``path``."""
    if isinstance(type_, GraphQLNonNull):
        return _with(value, type_.of_type, path, text)
    if not path:
        return text
    if isinstance(type_, GraphQLList):
        return [_with(_filler(type_.of_type), type_.of_type, path[1:], text)]
    assert isinstance(type_, GraphQLInputObjectType)
    head, rest = path[0], path[1:]
    field_type = type_.fields[head].type
    inner = value.get(head, _filler(field_type))
    return {**value, head: _with(inner, field_type, rest, text)}


def _selection(type_: Any) -> str:
    named = _named(type_)
    if isinstance(named, GraphQLInterfaceType):
        return "{ __typename }"
    if not isinstance(named, GraphQLObjectType):
        return ""
    if "errors" in named.fields:
        return "{ __typename errors { code field message } }"
    return "{ __typename }"


def _expected_field(path: tuple) -> str:
    """Mutations take one ``input``, which error fields do not name."""
    parts = [str(p) for p in path]
    if parts[0] == "input" and len(parts) > 1:
        parts = parts[1:]
    return ".".join(parts)


def _document(kind: str, field_name: str, field: Any, given: dict[str, Any]) -> str:
    definitions = ", ".join(f"${name}: {field.args[name].type}" for name in given)
    arguments = ", ".join(f"{name}: ${name}" for name in given)
    head = f"{kind}({definitions})" if definitions else kind
    call = f"{field_name}({arguments})" if arguments else field_name
    return f"{head} {{ {call} {_selection(field.type)} }}"


def _request(kind: str, field_name: str, field: Any, arg_name: str, path: tuple, text: str):
    given = {
        name: _filler(arg.type)
        for name, arg in field.args.items()
        if isinstance(arg.type, GraphQLNonNull) and arg.default_value is graphql.Undefined
    }
    base = given.get(arg_name, _filler(field.args[arg_name].type))
    given[arg_name] = _with(base, field.args[arg_name].type, path[1:], text)
    return _document(kind, field_name, field, given), given


def _all_cases(kind: str) -> list[tuple[str, Any, str, tuple]]:
    root = {"query": SCHEMA.query_type, "mutation": SCHEMA.mutation_type}.get(kind)
    if kind == "subscription":
        root = SCHEMA.subscription_type
    assert root is not None
    return [
        (field_name, field, arg_name, path)
        for field_name, field in root.fields.items()
        for arg_name, arg in field.args.items()
        for path in _slots(arg.type, (arg_name,))
    ]


def _texts(index: int) -> list[str]:
    """NUL everywhere, and one other refused character per slot, in turn."""
    return [NUL, OTHER_REFUSED[index % len(OTHER_REFUSED)]]


async def _post(client, document: str, variables: dict, token: str | None) -> tuple[int, dict]:
    """Encoded by the stdlib (ASCII escapes), so lone surrogates travel as a client sends them."""
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    response = await client.post(
        "/graphql", content=json.dumps({"query": document, "variables": variables}), headers=headers
    )
    return response.status_code, response.json()


def _top_level_invalid(body: dict, field: str) -> bool:
    return any(
        (e.get("extensions") or {}).get("code") == "INVALID"
        and (e.get("extensions") or {}).get("field") == field
        for e in body.get("errors") or []
    )


@pytest.fixture
async def admin(gql):
    return await register(gql, "root-admin", role=Role.ADMIN)


def test_the_walk_finds_the_operations_named_in_the_issue():
    found = {(name, _expected_field(path)) for name, _, _, path in _all_cases("mutation")}
    found |= {(name, _expected_field(path)) for name, _, _, path in _all_cases("query")}
    assert {
        ("acceptPolicy", "policyVersion"),
        ("setConsents", "policyVersion"),
        ("setConsents", "decisions.0.purpose"),
        ("updateProfile", "email"),
        ("verifyConsentLedger", "deviceId"),
        ("publishPolicy", "version"),
        ("publishPolicy", "summary"),
        ("publishPolicy", "purposes.0"),
        ("syncConsents", "deviceId"),
    } <= found
    assert len(found) > 100


async def test_every_mutation_string_refuses_control_characters(client, admin):
    failures = []
    for index, (name, field, arg_name, path) in enumerate(_all_cases("mutation")):
        expected = _expected_field(path)
        for token, text in [(None, NUL), *((admin.token, t) for t in _texts(index))]:
            document, variables = _request("mutation", name, field, arg_name, path, text)
            status, body = await _post(client, document, variables, token)
            payload = (body.get("data") or {}).get(name) or {}
            if status != 200 or ("INVALID", expected) not in codes(
                {"errors": payload.get("errors", [])}
            ):
                failures.append((name, expected, repr(text), bool(token), status, body))
    assert failures == [], "\n".join(map(repr, failures))


async def test_every_query_string_refuses_control_characters(client, admin):
    failures = []
    for index, (name, field, arg_name, path) in enumerate(_all_cases("query")):
        expected = _expected_field(path)
        for token, text in [(None, NUL), *((admin.token, t) for t in _texts(index))]:
            document, variables = _request("query", name, field, arg_name, path, text)
            status, body = await _post(client, document, variables, token)
            if status != 200 or not _top_level_invalid(body, expected):
                failures.append((name, expected, repr(text), bool(token), status, body))
    assert failures == [], "\n".join(map(repr, failures))


def _nested_fields() -> Iterator[tuple[list[str], str, Any]]:
    """Fields with arguments below the roots, reached from ``Query`` (e.g. ``viewer {
    favorites(itemType:) }``): the selection path to each, its name and definition."""
    seen: set[str] = set()
    pending: list[tuple[list[str], GraphQLObjectType]] = [([], SCHEMA.query_type)]
    while pending:
        trail, type_ = pending.pop(0)
        for name, field in type_.fields.items():
            target = _named(field.type)
            if trail and field.args:
                key = f"{type_.name}.{name}"
                if key not in seen:
                    seen.add(key)
                    yield trail, name, field
            if isinstance(target, GraphQLObjectType) and not field.args and target.name not in seen:
                seen.add(target.name)
                pending.append(([*trail, name], target))


async def test_nested_field_arguments_refuse_control_characters(client, admin):
    failures = []
    count = 0
    for trail, name, field in _nested_fields():
        for arg_name, arg in field.args.items():
            for path in _slots(arg.type, (arg_name,)):
                count += 1
                for text in _texts(count):
                    document, variables = _request("query", name, field, arg_name, path, text)
                    head, call = document.split(" { ", 1)
                    document = head + " { " + " { ".join(trail) + " { " + call
                    document += " }" * len(trail)
                    status, body = await _post(client, document, variables, admin.token)
                    if status != 200 or not _top_level_invalid(body, _expected_field(path)):
                        failures.append((trail, name, path, repr(text), status, body))
    assert count >= 5  # viewer's favorites, consentHistory, feedback, threads, notifications
    assert failures == [], "\n".join(map(repr, failures))


async def test_every_subscription_string_refuses_control_characters(app, admin):
    failures = []
    for index, (name, field, arg_name, path) in enumerate(_all_cases("subscription")):
        for text in _texts(index):
            document, variables = _request("subscription", name, field, arg_name, path, text)
            async with WebSocketSession(app) as ws:
                await ws.send(
                    {
                        "type": "connection_init",
                        "payload": {"authorization": f"Bearer {admin.token}"},
                    }
                )
                assert (await ws.receive())["type"] == "connection_ack"
                await ws.send(
                    {
                        "id": "1",
                        "type": "subscribe",
                        "payload": {"query": document, "variables": variables},
                    }
                )
                message = await ws.receive()
            errors = message.get("payload")
            if isinstance(errors, dict):
                errors = errors.get("errors")
            if not _top_level_invalid({"errors": errors}, _expected_field(path)):
                failures.append((name, path, repr(text), message))
    assert failures == [], "\n".join(map(repr, failures))


SYNC = """
mutation($input: SyncConsentsInput!) {
  syncConsents(input: $input) { results { idempotencyKey status code } errors { code field } }
}"""


@pytest.mark.parametrize("text", [NUL, *OTHER_REFUSED])
@pytest.mark.parametrize("key", ["idempotencyKey", "purpose", "policyVersion"])
async def test_a_sync_event_with_a_refused_character_alone_is_rejected(client, gql, key, text):
    await ensure_policy("v1")
    bad, good = event("activity_log", True), event("activity_log", False)
    bad[key] = bad[key][:8] + text + bad[key][8:]
    given = {"deviceId": device_id("device-0001-abc"), "events": [bad, good]}
    for _attempt in range(2):  # an offline client retries: the good event is not lost
        status, body = await _post(client, SYNC, {"input": given}, None)
        assert status == 200, body
        result = body["data"]["syncConsents"]
        assert result["errors"] == []
        statuses = [(r["status"], r["code"]) for r in result["results"]]
        assert statuses[0] == ("REJECTED", "INVALID")
        assert statuses[1][0] in ("ACCEPTED", "DUPLICATE")
    stored = await ConsentEvent.all().values_list("idempotency_key", flat=True)
    assert list(stored) == [good["idempotencyKey"]]


async def test_json_scalars_refuse_nul(client, gql, admin):
    made = await gql(
        DEFINE_QUESTIONNAIRE,
        {"input": {"title": "t", "questions": [{"id": "q1", "text": "x"}]}},
        token=admin.token,
    )
    questionnaire_id = made["data"]["defineQuestionnaire"]["questionnaire"]["id"]
    for document, name, given, field in [
        (
            DEFINE_QUESTIONNAIRE,
            "defineQuestionnaire",
            {"title": "t", "questions": [{"id": "q1", "text": "x" + NUL}]},
            "questions",
        ),
        (
            ANSWER_QUESTIONNAIRE,
            "answerQuestionnaire",
            {"questionnaireId": questionnaire_id, "answers": {"q1": NUL}},
            "answers",
        ),
        (REPORT_ERROR, "reportError", {"message": "m", "deviceConfig": {NUL: "v"}}, "deviceConfig"),
    ]:
        status, body = await _post(client, document, {"input": given}, admin.token)
        assert status == 200 and codes(body["data"][name]) == [("INVALID", field)], body


async def test_an_upload_named_with_control_characters_is_stored_without_its_name(client, admin):
    """The multipart file name is the only string an upload carries; it is never stored."""
    result = await upload(client, image_bytes("PNG"), token=admin.token, filename="a\x00\x1b.png")
    assert result["errors"] == [], result
