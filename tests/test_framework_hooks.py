"""Framework internals Accord leans on, one test per hook.

``pyproject.toml`` caps strawberry-graphql, graphql-core, tortoise-orm and aiosqlite at the
releases these hooks were checked against. Before raising a cap, run this file on the new
release: each failure names the module of ours that uses the hook and what to re-check there.
"""

from __future__ import annotations

import asyncio
import inspect
import sqlite3
import textwrap
import tomllib
from importlib.metadata import version
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
import strawberry
from graphql.execution.collect_fields import CollectedFields, FieldDetails
from packaging.requirements import Requirement
from strawberry.resolvers import is_default_resolver
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from tortoise.backends.sqlite.client import (
    SqliteClient,
    SqliteTransactionContext,
    SqliteTransactionWrapper,
)
from tortoise.models import Model

from accord.sqlite_backend import ImmediateSqliteClient
from api.execution import PlainFieldsExecutor
from models.accounts.account import Account, account_name_index, account_named

EXECUTION = "api/execution.py (PlainFieldsExecutor)"
SQLITE = "accord/sqlite_backend.py (ImmediateSqliteClient)"
TORTOISE_ROWS = "models/accounts.py (account_named), models/sessions.py, models/batches.py"


def _params(function: Any) -> list[str]:
    return list(inspect.signature(function).parameters)


# --- strawberry-graphql and graphql-core: api/execution.py ------------------------------


@strawberry.type
class Leaf:
    name: str


@strawberry.type
class Query:
    @strawberry.field
    def leaves(self) -> list[Leaf]:
        return [Leaf(name="a"), Leaf(name="b")]


class RecordingExecutor(PlainFieldsExecutor):
    """Records what graphql-core hands the hooks ``PlainFieldsExecutor`` overrides."""

    seen: list[tuple[str, Any]] = []

    def execute_fields(self, parent_type, source_value, path, grouped_field_set, ctx):  # type: ignore[override]
        self.seen.append((parent_type.name, grouped_field_set))
        return super().execute_fields(parent_type, source_value, path, grouped_field_set, ctx)


def test_execution_context_is_strawberrys_graphql_core_executor() -> None:
    assert issubclass(PlainFieldsExecutor, StrawberryGraphQLCoreExecutionContext), EXECUTION
    assert "execution_context_class" in _params(strawberry.Schema.__init__), (
        f"strawberry.Schema no longer takes execution_context_class: re-check {EXECUTION} "
        "and api/schema.py"
    )


def test_execute_fields_signature_and_call_per_object() -> None:
    """graphql-core calls ``execute_fields`` once per object, with these five arguments."""
    assert _params(StrawberryGraphQLCoreExecutionContext.execute_fields) == [
        "self",
        "parent_type",
        "source_value",
        "path",
        "grouped_field_set",
        "position_context",
    ], f"graphql-core's execute_fields changed: re-check the override in {EXECUTION}"
    RecordingExecutor.seen.clear()
    schema = strawberry.Schema(query=Query, execution_context_class=RecordingExecutor)
    result = schema.execute_sync("{ leaves { name } }")
    assert result.errors is None
    assert result.data == {"leaves": [{"name": "a"}, {"name": "b"}]}
    names = [name for name, _ in RecordingExecutor.seen]
    assert names == ["Query", "Leaf", "Leaf"], (
        f"graphql-core no longer completes each object through execute_fields ({names}): "
        f"the shortcut in {EXECUTION} is never taken"
    )
    # The plan cache is keyed by the grouped field set's identity: every list item must
    # bring the same (memoised) set, or each item builds its own plan.
    leaf_sets = [grouped for name, grouped in RecordingExecutor.seen if name == "Leaf"]
    assert leaf_sets[0] is leaf_sets[1], (
        f"collect_subfields is no longer memoised per field list: {EXECUTION} caches plans by "
        "the set's id and would build one per list item"
    )


def test_collect_subfields_and_field_details_shape() -> None:
    assert CollectedFields._fields == (
        "grouped_field_set",
        "new_defer_usages",
        "forbidden_directive_instances",
    ), f"collect_subfields returns another shape: re-check PlainFieldsExecutor._step in {EXECUTION}"
    assert "node" in FieldDetails._fields, f"FieldDetails lost .node: re-check {EXECUTION}"
    assert _params(StrawberryGraphQLCoreExecutionContext.collect_subfields) == [
        "self",
        "return_type",
        "field_details_list",
    ], f"collect_subfields' signature changed: re-check {EXECUTION}"


def test_executor_attributes_the_shortcut_reads() -> None:
    """``middleware_manager.middlewares``, ``is_awaitable`` and ``schema.get_field``."""
    seen: dict[str, Any] = {}

    class Probe(StrawberryGraphQLCoreExecutionContext):
        def execute_fields(self, parent_type, source_value, path, grouped_field_set, ctx):  # type: ignore[override]
            seen["middlewares"] = self.middleware_manager.middlewares
            seen["is_awaitable"] = self.is_awaitable(None)
            seen.setdefault("field", self.schema.get_field(parent_type, "leaves"))
            return super().execute_fields(parent_type, source_value, path, grouped_field_set, ctx)

    result = strawberry.Schema(query=Query, execution_context_class=Probe).execute_sync(
        "{ leaves { name } }"
    )
    assert result.errors is None, f"re-check the attributes {EXECUTION} reads: {result.errors}"
    assert not seen["middlewares"], (
        f"Strawberry now installs graphql-core middleware: {EXECUTION} would never shortcut"
    )
    assert seen["field"] is not None and seen["is_awaitable"] is False


def test_strawberry_marks_plain_field_resolvers() -> None:
    """A plain field's resolver is marked default and reads the attribute with no info."""
    schema = strawberry.Schema(query=Query)
    leaf = schema._schema.get_type("Leaf")
    plain = leaf.fields["name"].resolve
    assert is_default_resolver(plain), (
        f"Strawberry no longer marks plain-field resolvers: {EXECUTION} never shortcuts"
    )
    assert plain(Leaf(name="x"), None) == "x", (
        f"a plain field's resolver now needs its info: {EXECUTION} calls resolve(source, None)"
    )
    query = schema._schema.get_type("Query")
    assert not is_default_resolver(query.fields["leaves"].resolve), (
        f"Strawberry marks resolvers with code as default: {EXECUTION} would skip them"
    )


# --- tortoise-orm: rows made into models, model metadata --------------------------------


async def test_init_from_db_builds_a_saved_model_from_a_row(app) -> None:
    assert _params(Model._init_from_db) == ["kwargs"], (
        f"Model._init_from_db changed its signature: re-check {TORTOISE_ROWS}"
    )
    created = await Account.create(account_name="hook.user", nickname="Hook")
    found = await account_named("hook.user")
    assert found is not None, f"_init_from_db no longer accepts a raw row: {TORTOISE_ROWS}"
    assert found._saved_in_db, f"_init_from_db no longer marks rows as saved: {TORTOISE_ROWS}"
    assert (found.id, found.account_name, found.status, found.created_at) == (
        created.id,
        created.account_name,
        created.status,
        created.created_at,
    ), f"_init_from_db converts values differently: re-check {TORTOISE_ROWS}"
    found.nickname = "Renamed"
    await found.save()  # an update, not an insert: the row is known to be stored
    assert (await Account.get(id=created.id)).nickname == "Renamed"


async def test_model_meta_db_and_pk_attr(app) -> None:
    assert Account._meta.db is not None and hasattr(Account._meta.db, "execute_query_dict"), (
        f"Model._meta.db is no longer the model's client: re-check {TORTOISE_ROWS}"
    )
    assert Account._meta.pk_attr == "id", f"Model._meta.pk_attr changed: {TORTOISE_ROWS}"
    assert isinstance(
        Account.filter(account_name_index=await account_name_index("")).limit(1).sql(), str
    )


# --- tortoise-orm and aiosqlite: accord/sqlite_backend.py -------------------------------


def _body(function: Any) -> list[str]:
    """A method's statements without its signature, docstring and log lines."""
    lines = textwrap.dedent(inspect.getsource(function)).splitlines()[1:]
    code = [line.split("#")[0].rstrip() for line in lines]
    return [line for line in code if line.strip() and '"""' not in line]


def test_create_connection_is_still_tortoises_own_plus_detect_types() -> None:
    """Ours is a copy of Tortoise's, plus ``detect_types``: the copy must not go stale."""
    theirs = [line for line in _body(SqliteClient.create_connection) if "self.log" not in line]
    theirs = theirs[: next(i for i, line in enumerate(theirs) if "_post_connect" in line) + 1]
    ours = _body(ImmediateSqliteClient.create_connection)
    normalise = {
        "self._connection = await aiosqlite.connect(self.filename, isolation_level=None)": (
            "self._connection = await aiosqlite.connect("
        ),
        "for pragma, val in self.pragmas.items():": "for pragma, value in self.pragmas.items():",
        'cursor = await self._connection.execute(f"PRAGMA {pragma}={val}")': (
            'cursor = await self._connection.execute(f"PRAGMA {pragma}={value}")'
        ),
    }
    theirs = [normalise.get(line.strip(), line.strip()) for line in theirs]
    ours = [line.strip() for line in ours]
    ours = [line for line in ours if "detect_types=sqlite3.PARSE_DECLTYPES" not in line]
    ours = [line for line in ours if line != ")"]
    assert ours == theirs, (
        f"Tortoise's SqliteClient.create_connection changed: bring {SQLITE} up to date with it"
    )


def test_transaction_hooks() -> None:
    assert _params(SqliteClient._in_transaction) == ["self"], SQLITE
    assert _params(SqliteTransactionContext.__init__) == ["self", "connection", "trxlock"], (
        f"SqliteTransactionContext takes other arguments: re-check _in_transaction in {SQLITE}"
    )
    assert "self._connection" in inspect.getsource(SqliteTransactionWrapper.__init__), (
        f"the transaction wrapper no longer keeps _connection: re-check begin() in {SQLITE}"
    )
    assert 'execute("BEGIN")' in inspect.getsource(SqliteTransactionWrapper.begin), (
        f"Tortoise's begin() changed: re-check ImmediateTransactionWrapper.begin in {SQLITE}"
    )


async def test_sqlite_client_opens_immediate_transactions(tmp_path) -> None:
    """Through the private fields: ``_lock``, ``_connection``, aiosqlite's ``_conn``."""
    client = ImmediateSqliteClient(file_path=str(tmp_path / "hooks.db"), connection_name="hooks")
    await client.create_connection(with_db=True)
    try:
        assert isinstance(client._lock, asyncio.Lock), SQLITE
        assert isinstance(client._connection, aiosqlite.Connection), SQLITE
        assert isinstance(client._connection._conn, sqlite3.Connection), (
            f"aiosqlite.Connection._conn is gone: re-check the row factory in {SQLITE}"
        )
        await client.execute_script("CREATE TABLE t (at TIMESTAMP)")
        async with client._in_transaction() as connection:
            await connection.execute_insert("INSERT INTO t VALUES (?)", ["2026-01-02 03:04:05"])
            assert connection._connection.in_transaction
        rows = await client.execute_query_dict("SELECT at FROM t")
        assert type(rows[0]["at"]).__name__ == "datetime", (
            f"TIMESTAMP columns are no longer converted: re-check detect_types in {SQLITE}"
        )
    finally:
        await client.close()


@pytest.mark.parametrize(
    "package, used_by",
    [
        ("strawberry-graphql", EXECUTION),
        ("graphql-core", EXECUTION),
        ("tortoise-orm", f"{TORTOISE_ROWS}, {SQLITE}"),
        ("aiosqlite", SQLITE),
    ],
)
def test_installed_release_is_within_the_pinned_range(package: str, used_by: str) -> None:
    """The caps in pyproject.toml are what this file was last run against."""
    pyproject = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    pins = {Requirement(r).name: Requirement(r) for r in pyproject["project"]["dependencies"]}
    assert package in pins and pins[package].specifier, f"{package} is not pinned"
    assert any(s.operator == "<" for s in pins[package].specifier), (
        f"{package} has no upper bound; {used_by} uses its internals"
    )
    assert version(package) in pins[package].specifier
