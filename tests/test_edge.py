"""The guarded GraphQL edge: limits, 413, masking, suggestions, request ids, logs."""

from __future__ import annotations

import json
import logging

import pytest

from accord.logs import configure_logging
from tests.conftest import make_settings
from tests.device_ids import device_id


async def test_typename_answers(gql):
    assert (await gql("{ __typename }"))["data"] == {"__typename": "Query"}


async def test_depth_limit(app_with):
    async with app_with(max_query_depth=1) as http:
        shallow = await http.post("/graphql", json={"query": "{ viewer { id } }"})
        assert "errors" not in shallow.json()
        deep = await http.post("/graphql", json={"query": "{ viewer { bindings { provider } } }"})
        assert "exceeds maximum operation depth" in deep.json()["errors"][0]["message"]


async def test_alias_limit(gql, settings):
    aliases = " ".join(f"a{i}: __typename" for i in range(settings.max_aliases + 1))
    body = await gql("{ " + aliases + " }", expect_errors=True)
    assert "aliases found" in body["errors"][0]["message"]
    ok = " ".join(f"a{i}: __typename" for i in range(settings.max_aliases))
    assert "errors" not in await gql("{ " + ok + " }", expect_errors=True)


async def test_token_limit(gql, settings):
    fields = " ".join("__typename" for _ in range(settings.max_tokens))
    body = await gql("{ " + fields + " }", expect_errors=True)
    assert f"more than {settings.max_tokens} tokens" in body["errors"][0]["message"]
    fewer = " ".join("__typename" for _ in range(500))
    assert "errors" not in await gql("{ " + fewer + " }", expect_errors=True)


async def test_batch_operation_limit(client, settings):
    ops = [{"query": "{ __typename }"}] * settings.max_operations
    ok = await client.post("/graphql", json=ops)
    assert ok.status_code == 200
    assert [r["data"] for r in ok.json()] == [{"__typename": "Query"}] * settings.max_operations
    too_many = await client.post("/graphql", json=[*ops, {"query": "{ __typename }"}])
    assert too_many.status_code == 400
    assert "Too many operations" in too_many.text


async def test_oversized_body_is_refused_with_413(client, settings):
    padding = "#" + "x" * settings.max_body_bytes + "\n"
    declared = await client.post("/graphql", json={"query": padding + "{ __typename }"})
    assert declared.status_code == 413

    async def chunks():
        yield b'{"query": "'
        for _ in range(settings.max_body_bytes // 1024 + 2):
            yield b" " * 1024
        yield b'{ __typename }"}'

    streamed = await client.post(
        "/graphql", content=chunks(), headers={"content-type": "application/json"}
    )
    assert streamed.status_code == 413
    assert streamed.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"


async def test_request_id_is_echoed_and_generated(client):
    mine = await client.get("/healthz", headers={"x-request-id": "client-chosen-id-1"})
    assert mine.headers["x-request-id"] == "client-chosen-id-1"
    bad = await client.get("/healthz", headers={"x-request-id": "bad id\n"})
    assert bad.headers["x-request-id"] != "bad id\n" and len(bad.headers["x-request-id"]) == 16


async def test_dev_suggests_fields(gql):
    body = await gql("{ viewr { id } }", expect_errors=True)
    assert "Did you mean" in body["errors"][0]["message"]


async def test_unexpected_error_is_masked_with_request_id(gql, monkeypatch):
    import models.accounts.authentication as authentication

    async def explode(*args, **kwargs):
        raise RuntimeError("database password is hunter2")

    monkeypatch.setattr(authentication, "register", explode)
    body = await gql(
        """mutation { register(input: {accountName: "someone", password: "x",
        nickname: "S"}) { errors { code } } }""",
        expect_errors=True,
        headers={"x-request-id": "trace-me-12345"},
    )
    error = body["errors"][0]
    assert "hunter2" not in json.dumps(body)
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR", "requestId": "trace-me-12345"}
    assert "trace-me-12345" in error["message"]


@pytest.fixture
async def prod_client(app_with, data_dir, database_url, redis_url):
    configure_logging(make_settings(data_dir, database_url, redis_url, env="prod"))
    async with app_with(env="prod") as http:
        yield http
    configure_logging(make_settings(data_dir, database_url, redis_url))


async def test_prod_hides_suggestions_introspection_and_ide(prod_client):
    typo = await prod_client.post("/graphql", json={"query": "{ viewr { id } }"})
    message = typo.json()["errors"][0]["message"]
    assert "viewr" in message and "Did you mean" not in message
    schema = await prod_client.post("/graphql", json={"query": "{ __schema { types { name } } }"})
    assert "introspection" in schema.json()["errors"][0]["message"].lower()
    ide = await prod_client.get("/graphql", headers={"accept": "text/html"})
    assert ide.status_code in (404, 405) or "graphiql" not in ide.text.lower()


async def test_prod_logs_are_json_with_request_id(prod_client, capsys, settings):
    configure_logging(settings.model_copy(update={"env": "prod"}))
    await prod_client.get("/healthz", headers={"x-request-id": "json-log-check-1"})
    lines = [
        json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")
    ]
    request_lines = [line for line in lines if line.get("event") == "request"]
    assert request_lines and request_lines[-1]["request_id"] == "json-log-check-1"
    assert request_lines[-1]["status"] == 200
    logging.getLogger("accord.test").warning("outside a request")
    plain = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert plain[-1]["event"] == "outside a request" and "request_id" not in plain[-1]


async def test_a_deeply_nested_body_is_a_400_not_a_crash(client):
    depth = 5000
    body = '{"query": "{ __typename }", "variables": ' + '{"a": ' * depth + "1" + "}" * depth + "}"
    response = await client.post(
        "/graphql", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert "nested too deeply" in response.text


MALFORMED_BODIES = [
    b'"hello"',
    b"null",
    b"42",
    b"true",
    b"[1]",
    b'["x"]',
    b"[null]",
    b'[{"query": "{ __typename }"}, "x"]',
    b'[{"query": 1}]',
    b'[{"query": "{ __typename }", "variables": "x"}]',
    # invalid UTF-8 in a variable, and in the query
    b'{"query": "query($a: String) { __typename }", "variables": {"a": "\xff\xfe"}}',
    b'{"query": "{ __typename \xc3 }"}',
    b"\xff",
    # what Strawberry already refused with a 400, now with the same error body
    b"",
    b"{",
    b'{"query": 1}',
    b'{"query": "{ __typename }", "variables": "x"}',
]


@pytest.mark.parametrize("body", MALFORMED_BODIES)
async def test_a_malformed_body_is_a_400_with_a_graphql_error_body(raw_client, body):
    response = await raw_client.post(
        "/graphql", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/json")
    errors = response.json()["errors"]
    assert len(errors) == 1 and errors[0]["message"]
    assert errors[0]["extensions"] == {"code": "BAD_REQUEST"}


async def test_invalid_utf8_in_a_multipart_request_is_the_callers_error(raw_client):
    """Starlette reads a form field that is not UTF-8 as Latin-1: the query is then a syntax
    error, answered as one; never a 500."""
    boundary = b"accordboundary"
    body = b"".join(
        b"--" + boundary + b"\r\n" + head + b"\r\n\r\n" + value + b"\r\n"
        for head, value in [
            (b'Content-Disposition: form-data; name="operations"', b'{"query": "{ a\xff }"}'),
            (b'Content-Disposition: form-data; name="map"', b"{}"),
        ]
    )
    response = await raw_client.post(
        "/graphql",
        content=body + b"--" + boundary + b"--\r\n",
        headers={"content-type": "multipart/form-data; boundary=accordboundary"},
    )
    assert response.status_code in (200, 400), response.text
    assert "Syntax Error" in response.json()["errors"][0]["message"]


async def test_an_unsupported_content_type_is_a_400_with_a_graphql_error_body(raw_client):
    response = await raw_client.post(
        "/graphql", content=b"{ __typename }", headers={"content-type": "text/plain"}
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"] == {"code": "BAD_REQUEST"}


@pytest.mark.parametrize(
    ("document", "variables"),
    [
        (
            "mutation { syncConsents(input: {deviceId: "
            + json.dumps(device_id("device-0001-abc"))
            + ', events: [["x"], null, 7]}) { results { index status code } errors { code } } }',
            {},
        ),
        (
            "mutation($e: [ConsentSyncEvent!]!) { syncConsents(input: {deviceId: "
            + json.dumps(device_id("device-0001-abc"))
            + ", events: $e}) { results { index status code } errors { code } } }",
            {"e": [["x"], "x", 7]},
        ),
    ],
)
async def test_a_value_that_is_no_sync_event_is_rejected_alone(gql, document, variables):
    """Found by the fuzz run as an internal error, then answered with a request error that
    sank the batch; now the scalar takes any JSON value and each one that is no event is
    REJECTED on its own (tests/test_consent_sync_rules.py has the batches)."""
    body = await gql(document, variables)
    result = body["data"]["syncConsents"]
    assert result["errors"] == []
    assert result["results"] == [
        {"index": i, "status": "REJECTED", "code": "INVALID"} for i in range(3)
    ]


PREFLIGHT = {
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "authorization, content-type",
}


async def test_cors_preflight_and_request_from_an_allowed_origin(app_with):
    origin = "https://app.example.com"
    async with app_with(cors_origins=[origin]) as http:
        preflight = await http.options("/graphql", headers={"Origin": origin, **PREFLIGHT})
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == origin
        assert "POST" in preflight.headers["access-control-allow-methods"]
        allowed = preflight.headers["access-control-allow-headers"].lower()
        assert "authorization" in allowed and "content-type" in allowed
        assert "access-control-allow-credentials" not in preflight.headers
        answer = await http.post(
            "/graphql", json={"query": "{ __typename }"}, headers={"Origin": origin}
        )
        assert answer.json() == {"data": {"__typename": "Query"}}
        assert answer.headers["access-control-allow-origin"] == origin
        # A refusal before execution still lets the page read why.
        refused = await http.post("/graphql", content=b'"hello"', headers={"Origin": origin})
        assert refused.status_code == 400
        assert refused.headers["access-control-allow-origin"] == origin


async def test_cors_refuses_other_origins(app_with):
    async with app_with(cors_origins=["https://app.example.com"]) as http:
        evil = {"Origin": "https://evil.example.net"}
        preflight = await http.options("/graphql", headers={**evil, **PREFLIGHT})
        assert preflight.status_code == 400
        assert "access-control-allow-origin" not in preflight.headers
        answer = await http.post("/graphql", json={"query": "{ __typename }"}, headers=evil)
        assert "access-control-allow-origin" not in answer.headers


async def test_cors_default_allows_local_dev_servers_in_dev_only(app_with):
    local = {"Origin": "http://localhost:5173", **PREFLIGHT}
    async with app_with() as http:
        preflight = await http.options("/graphql", headers=local)
        assert preflight.headers["access-control-allow-origin"] == "http://localhost:5173"
        other = await http.options("/graphql", headers={**local, "Origin": "https://x.example"})
        assert "access-control-allow-origin" not in other.headers
    async with app_with(env="prod") as http:
        preflight = await http.options("/graphql", headers=local)
        assert "access-control-allow-origin" not in preflight.headers
