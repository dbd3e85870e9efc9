"""Every String and ID a client passes is checked once, here, before any resolver runs.

A rule per field would leave the fields nobody thought of: a NUL in a policy version, an
e-mail address or a device id reached PostgreSQL, which refuses it, and the caller got an
internal error (and SQLite another answer). So ``guard_arguments`` wraps, once per built
schema, every field whose arguments hold a String or ID anywhere (inside input objects and
lists too) and checks their coerced values against ``models.text.refused_character``:

- a mutation (``@payload``) answers its payload with one typed error, code INVALID, whose
  ``field`` is the path below ``input`` (``policyVersion``, ``decisions.0.purpose``);
- any other field (a query, a subscription, ``viewer { favorites(itemType:) }``) answers a
  top-level error with ``extensions: {code: INVALID, field}``.

Custom scalars (``JSON``, ``ConsentSyncEvent``, ``Upload``) are not walked: their own
parsers judge what they carry, so that one bad event of a sync is rejected alone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import strawberry
from graphql import (
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
)

from models.errors import DomainError, SharedErrorCode
from models.text import REFUSED_MESSAGE, refused_character

_TEXT_SCALARS = frozenset({"String", "ID"})
#: What ``@payload`` attaches to a mutation: builds its payload around one error.
AS_PAYLOAD = "as_payload"


def guard_arguments(schema: strawberry.Schema) -> None:
    """Wrap the resolvers of every field that takes text, in this schema's graphql-core types."""
    for concrete in schema.schema_converter.type_map.values():
        type_ = concrete.implementation
        if not isinstance(type_, GraphQLObjectType) or type_.name.startswith("__"):
            continue
        for field in type_.fields.values():
            texts = {
                name: arg.type for name, arg in field.args.items() if _holds_text(arg.type, set())
            }
            if not texts:
                continue
            as_payload = _as_payload(field.extensions.get("strawberry-definition"))
            if field.subscribe is not None:
                field.subscribe = _checked(field.subscribe, texts, as_payload)
            elif field.resolve is not None:
                field.resolve = _checked(field.resolve, texts, as_payload)


def refused_argument(arguments: dict[str, Any], types: dict[str, GraphQLInputType]) -> str | None:
    """The path of the first refused string among coerced ``arguments``, if any."""
    for name, type_ in types.items():
        path = _refused(arguments.get(name), type_, [name])
        if path is not None:
            # Mutations take one ``input``; error fields name what is inside it.
            parts = path[1:] if path[0] == "input" and len(path) > 1 else path
            return ".".join(str(p) for p in parts)
    return None


def _checked(
    resolve: Callable[..., Any],
    texts: dict[str, GraphQLInputType],
    as_payload: Callable[[DomainError], Any] | None,
) -> Callable[..., Any]:
    def checked(source: Any, info: Any, **arguments: Any) -> Any:
        field = refused_argument(arguments, texts)
        if field is None:
            return resolve(source, info, **arguments)
        error = DomainError(SharedErrorCode.INVALID, field, REFUSED_MESSAGE)
        if as_payload is None:
            raise error
        return as_payload(error)

    return checked


def _as_payload(definition: Any) -> Callable[[DomainError], Any] | None:
    resolver = getattr(definition, "base_resolver", None)
    return getattr(getattr(resolver, "wrapped_func", None), AS_PAYLOAD, None)


def _holds_text(type_: Any, seen: set[str]) -> bool:
    while isinstance(type_, (GraphQLNonNull, GraphQLList)):
        type_ = type_.of_type
    if isinstance(type_, GraphQLScalarType):
        return type_.name in _TEXT_SCALARS
    if isinstance(type_, GraphQLInputObjectType) and type_.name not in seen:
        seen.add(type_.name)
        return any(_holds_text(f.type, seen) for f in type_.fields.values())
    return False


def _refused(value: Any, type_: Any, path: list[Any]) -> list[Any] | None:
    """Walked by the declared type, so a JSON scalar's strings are left to its own parser."""
    if value is None:
        return None
    if isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    if isinstance(type_, GraphQLList):
        if isinstance(value, list):
            for index, item in enumerate(value):
                found = _refused(item, type_.of_type, [*path, index])
                if found is not None:
                    return found
        return None
    if isinstance(type_, GraphQLInputObjectType):
        if isinstance(value, dict):
            for name, field in type_.fields.items():
                found = _refused(value.get(field.out_name or name), field.type, [*path, name])
                if found is not None:
                    return found
        return None
    if isinstance(type_, GraphQLScalarType) and type_.name in _TEXT_SCALARS:
        return path if isinstance(value, str) and refused_character(value) else None
    return None
