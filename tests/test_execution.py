"""The plain-fields shortcut answers exactly what graphql-core answers, errors included.

Every query runs twice, on a schema with ``PlainFieldsExecutor`` and on the same schema
with Strawberry's own executor; data and errors (message, path, locations) must be equal.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator

import pytest
import strawberry
from graphql.execution.executor import Executor

from api.execution import PlainFieldsExecutor


@strawberry.enum
class Mood(enum.Enum):
    CALM = "calm"
    LOUD = "loud"


@strawberry.type
class Tag:
    label: str
    weight: int | None


@strawberry.type
class Item:
    id: strawberry.ID
    name: str
    mood: Mood
    note: str | None
    tag: Tag
    maybe_tag: Tag | None
    tags: list[Tag]
    words: list[str]

    @strawberry.field
    async def shout(self) -> str:
        return self.name.upper()


class Broken:
    """An object whose ``name`` property raises, like a model with a failing attribute."""

    id = "9"
    mood = Mood.CALM
    note = None
    tag = Tag(label="x", weight=None)
    maybe_tag = None
    tags: list[Tag] = []
    words: list[str] = []

    @property
    def name(self) -> str:
        raise RuntimeError("attribute failed")


def _item(n: int, **overrides) -> Item:
    values = {
        "id": strawberry.ID(str(n)),
        "name": f"item {n}",
        "mood": Mood.CALM if n % 2 else Mood.LOUD,
        "note": None if n % 3 else f"note {n}",
        "tag": Tag(label=f"t{n}", weight=n),
        "maybe_tag": None if n % 2 else Tag(label="m", weight=None),
        "tags": [Tag(label=f"a{n}", weight=None), Tag(label=f"b{n}", weight=1)],
        "words": ["x", f"w{n}"],
    }
    values.update(overrides)
    return Item(**values)


#: Made afresh for every run (a generator can be read only once).
CASES: dict[str, Callable[[], list]] = {
    "good": lambda: [_item(n) for n in range(1, 8)],
    "null_in_non_null": lambda: [_item(1), _item(2, name=None), _item(3)],
    "bad_enum": lambda: [_item(1, mood="not a mood")],
    "raising_property": lambda: [_item(1), Broken()],
    "null_list_item": lambda: [_item(1, tags=[Tag(label="a", weight=1), None])],
    "generator_list": lambda: [_item(1, words=(w for w in ["lazy", "words"]))],
    "wrong_scalar": lambda: [_item(1, tag=Tag(label="t", weight="heavy"))],
}

FAULTY = {"null_in_non_null", "bad_enum", "raising_property", "null_list_item", "wrong_scalar"}


@strawberry.type
class Query:
    @strawberry.field
    def items(self, case: str = "good") -> list[Item]:
        return CASES[case]()

    @strawberry.field
    def first_item(self, case: str = "good") -> Item | None:
        return CASES[case]()[0]


FAST = strawberry.Schema(query=Query, execution_context_class=PlainFieldsExecutor)
PLAIN = strawberry.Schema(query=Query)

FIELDS = "id name mood note tag { label weight } maybeTag { label } tags { label weight } words"
QUERIES = {
    "all fields": f"{{ items {{ {FIELDS} }} }}",
    "aliases and typename": (
        "{ items { key: id __typename tag { w: weight __typename } again: name name } }"
    ),
    "fragments": (
        "query { items { ...Bits ... on Item { mood tag { ...T } } } }"
        " fragment Bits on Item { id name } fragment T on Tag { label }"
    ),
    "skip and include": (
        "query($yes: Boolean!, $no: Boolean!) { items { id name @include(if: $yes)"
        " note @skip(if: $yes) tag @include(if: $no) { label } } }"
    ),
    "a resolver among plain fields": "{ items { id shout name } }",
    "nullable parent": f"{{ firstItem {{ {FIELDS} }} }}",
}


async def _run(schema: strawberry.Schema, query: str, case: str) -> tuple[object, list]:
    document = query.replace("items", f'items(case: "{case}")').replace(
        "firstItem", f'firstItem(case: "{case}")'
    )
    result = await schema.execute(document, variable_values={"yes": True, "no": False})
    errors = [(e.message, e.path, e.locations) for e in result.errors or []]
    return result.data, sorted(errors, key=repr)


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("name", sorted(QUERIES))
async def test_same_answer_as_graphql_core(name: str, case: str) -> None:
    fast = await _run(FAST, QUERIES[name], case)
    plain = await _run(PLAIN, QUERIES[name], case)
    assert fast == plain
    if case in FAULTY and name == "all fields":
        assert fast[1], "the case is meant to produce an error"


@pytest.fixture
def field_executions() -> Iterator[list[str]]:
    """Names of the fields graphql-core executes one by one."""
    seen: list[str] = []
    original = Executor.execute_field

    def counting(self, parent_type, source, field_details_list, path, position_context):
        seen.append(f"{parent_type.name}.{field_details_list[0].node.name.value}")
        return original(self, parent_type, source, field_details_list, path, position_context)

    Executor.execute_field = counting
    try:
        yield seen
    finally:
        Executor.execute_field = original


async def test_plain_objects_skip_per_field_execution(field_executions: list[str]) -> None:
    data, errors = await _run(FAST, QUERIES["all fields"], "good")
    assert not errors
    assert len(data["items"]) == 7
    # Only the root field goes through graphql-core; the list and all below it are plain.
    assert field_executions == ["Query.items"]


async def test_an_object_that_needs_graphql_core_gets_it(field_executions: list[str]) -> None:
    data, errors = await _run(FAST, QUERIES["a resolver among plain fields"], "good")
    assert not errors
    assert data["items"][0] == {"id": "1", "shout": "ITEM 1", "name": "item 1"}
    assert "Item.shout" in field_executions
