"""A rule's error code always reaches the caller as a typed code, never as an internal error.

Each domain's rules raise codes of the domain's own enum (``models/*_errors.py``), which is
also its GraphQL enum; rules every domain calls raise ``SharedErrorCode``, which every domain
enum includes. The static check below follows each mutation's calls down to the rules and
fails if one could raise a code its payload's enum does not list; at run time such a code
(a bug this check missed) is answered with ``FALLBACK_CODE`` and logged.
"""

from __future__ import annotations

import inspect
import textwrap
from enum import StrEnum
from pathlib import Path
from typing import Any, get_args, get_type_hints

import pytest

from api.consent.types import ConsentError
from api.payloads import error_code, payload
from api.personal.types import PersonalDataError
from api.schema import Mutation
from models.accounts.errors import AccountErrorCode
from models.errors import FALLBACK_CODE, DomainError, SharedErrorCode
from tests.call_graph import CallGraph
from tests.personal_helpers import ADD_FAVORITE, register

ROOT = Path(__file__).resolve().parents[1]


def _mutations() -> list[tuple[str, list[str], type[StrEnum]]]:
    """(name, the functions that run it, the enum of its payload's ``errors[].code``)."""
    found = []
    for field in Mutation.__strawberry_definition__.fields:
        wrapped = field.base_resolver.wrapped_func
        resolver = inspect.unwrap(wrapped)
        roots = [f"{resolver.__module__}.{resolver.__qualname__}"]
        if resolver is not wrapped:  # @payload: its sign-in and role guards run first
            roots.append(f"{payload.__module__}.{payload.__qualname__}")
        payload_type = get_type_hints(resolver)["return"]
        (error_type,) = get_args(get_type_hints(payload_type)["errors"])
        found.append((field.graphql_name or field.name, roots, get_type_hints(error_type)["code"]))
    return found


MUTATIONS = _mutations()


def test_every_mutation_has_a_typed_error_enum() -> None:
    assert len(MUTATIONS) > 30
    for name, _, enum in MUTATIONS:
        assert issubclass(enum, StrEnum), name


@pytest.mark.parametrize(
    "enum", sorted({enum for _, _, enum in MUTATIONS}, key=lambda e: e.__name__)
)
def test_graphql_error_enums_are_the_rules_own_and_include_the_shared_codes(enum) -> None:
    assert enum.__module__.startswith("models."), (
        f"{enum.__name__} is declared in {enum.__module__}: generate it from the rules' enum "
        "in models/ so the two cannot drift"
    )
    assert {c.value for c in SharedErrorCode} <= {c.value for c in enum}


def test_every_code_a_mutation_can_receive_is_in_its_payload_enum() -> None:
    graph = CallGraph(ROOT)
    problems = []
    for name, roots, enum in MUTATIONS:
        assert all(root in graph.functions for root in roots), roots
        listed = {c.value for c in enum}
        for code, path in sorted(graph.codes(roots).items()):
            if code not in listed:
                problems.append(
                    f"{name}: {code} ({enum.__name__} lacks it) via {' -> '.join(path)}"
                )
    assert not problems, "\n".join(problems)


def test_the_call_graph_finds_a_code_raised_two_calls_down(tmp_path) -> None:
    """The check itself: a planted rule, reached through a module alias and a method call."""
    (tmp_path / "models").mkdir()
    (tmp_path / "api").mkdir()
    (tmp_path / "models" / "limits.py").write_text(
        textwrap.dedent(
            """
            from models.errors import DomainError, SharedErrorCode

            class Gate:
                def check(self):
                    raise DomainError(SharedErrorCode.RATE_LIMITED, None, "slow down")

            def unrelated():
                raise DomainError(SharedErrorCode.CONFLICT, None, "never called")
            """
        )
    )
    (tmp_path / "models" / "things.py").write_text(
        textwrap.dedent(
            """
            from models import limits as gates
            from models.thing_errors import ThingErrorCode

            def add(gate):
                gate.check()
                if not gate:
                    raise DomainError(ThingErrorCode.TOO_MANY, "x", "too many")
            """
        )
    )
    (tmp_path / "api" / "things.py").write_text(
        textwrap.dedent(
            """
            import strawberry
            from models import things

            @strawberry.type
            class ThingMutations:
                async def add_thing(self, info):
                    return things.add(info.context.gate)
            """
        )
    )
    graph = CallGraph(tmp_path)
    found = graph.codes(["api.things.ThingMutations.add_thing"])
    assert set(found) == {"RATE_LIMITED", "TOO_MANY"}
    assert found["RATE_LIMITED"] == [
        "api.things.ThingMutations.add_thing",
        "models.things.add",
        "models.limits.Gate.check",
    ]


def test_a_code_the_enum_lacks_is_answered_with_the_fallback_and_logged(monkeypatch) -> None:
    logged: list[tuple[str, dict[str, Any]]] = []

    class Recorder:
        def error(self, event: str, **fields: Any) -> None:
            logged.append((event, fields))

    monkeypatch.setattr("api.payloads.log", Recorder())
    error = DomainError(AccountErrorCode.NAME_IN_QUARANTINE, "name", "that name rests a while")
    answer = PersonalDataError.of(error)
    assert (answer.code, answer.field, answer.message) == (
        FALLBACK_CODE,
        "name",
        "that name rests a while",
    )
    assert logged == [
        (
            "error code missing from the payload's enum",
            {"code": "NAME_IN_QUARANTINE", "enum": "PersonalDataErrorCode"},
        )
    ]
    # A shared code, or the domain's own, passes unchanged whatever enum the rule used.
    assert ConsentError.of(DomainError(SharedErrorCode.FORBIDDEN, None, "no")).code == "FORBIDDEN"
    assert error_code(AccountErrorCode, "NAME_IN_QUARANTINE") is AccountErrorCode.NAME_IN_QUARANTINE


async def test_a_mutation_whose_rule_raises_a_foreign_code_answers_a_typed_error(
    gql, monkeypatch
) -> None:
    """Through the API: a rule raising a code the payload's enum lacks is not a 500 and not an
    INTERNAL_SERVER_ERROR, but the fallback code with the rule's field and message."""
    alice = await register(gql, "alice")

    async def refuses(*args: Any, **kwargs: Any) -> None:
        raise DomainError(AccountErrorCode.ACCOUNT_INACTIVE, "itemId", "the account is inactive")

    monkeypatch.setattr("models.personal.favorites.add_favorite", refuses)
    body = await gql(
        ADD_FAVORITE, {"input": {"itemType": "product", "itemId": "p-1"}}, token=alice.token
    )
    assert "errors" not in body, body
    assert body["data"]["addFavorite"] == {
        "favorite": None,
        "errors": [
            {"code": str(FALLBACK_CODE), "field": "itemId", "message": "the account is inactive"}
        ],
    }
