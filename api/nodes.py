"""Relay object identification: the ``Node`` interface, global ids and ``Query.node``.

Every object a client caches has ``id: ID!``, a *global id*: ``base64("Type:key")`` (the
format ``strawberry.relay`` writes and Relay expects), opaque to clients, unique across types.
Apollo and Relay both key their caches by it, and ``node(id:)`` refetches any of them.

The types subclass ``AccordNode`` (``strawberry.relay.Node``), but keep ``id`` as a plain
field holding the id already encoded: Strawberry's own ``id`` is a resolver per object, and a
resolver keeps every node of a page off ``PlainFieldsExecutor``'s shortcut (``api.execution``).

``node``/``nodes`` apply the same permission as the type's normal access path: each type's
``visible`` answers only what the viewer could read through it (``api.permissions``), so a
guessed id of another's object is ``null``, the same answer as for an id that names nothing.

**Ids in inputs** (``key_of``): a global id of the expected type; for a transition period the
raw key that ids used to be (``"42"``, a session's UUID) is still accepted. A global id of
another type names nothing (``NOT_FOUND``).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Sequence
from typing import Any, ClassVar, Self

import strawberry
from strawberry import relay
from strawberry.relay.utils import from_base64, to_base64
from strawberry.types import Info
from strawberry.types.base import StrawberryObjectDefinition

from api.context import Context
from api.errors import ClientError
from api.pagination import parse_id

#: Most ids ``nodes`` resolves at once (a page is at most 100).
MAX_NODES = 100
#: What ids used to be: a row number or a UUID. A global id is never either (it starts with
#: the base64 of a type name), so the two cannot be confused.
_RAW_KEY = re.compile(r"[0-9]{1,19}|[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")


def global_id(type_name: str, key: object) -> strawberry.ID:
    """The id a client sees for the object ``key`` of ``type_name``."""
    return strawberry.ID(to_base64(type_name, key))


def decode(raw: object) -> tuple[str, str] | None:
    """(type name, key) of a global id, or None when it is not one."""
    try:
        return from_base64(str(raw))
    except ValueError:
        return None


def key_of(raw: object, type_name: str) -> str | None:
    """The key of the ``type_name`` object a client names in an input: its global id or
    (transition) the raw key; None when it cannot name one."""
    text = str(raw)
    if _RAW_KEY.fullmatch(text):
        return text
    decoded = decode(text)
    if decoded is None or decoded[0] != type_name:
        return None
    return decoded[1]


@dataclasses.dataclass
class AccordNode(relay.Node):
    """A type with identity. Subclasses set ``id`` with ``global_id`` and say who sees what."""

    #: ``id`` holds the encoded global id (see the module docstring).
    _id_attr: ClassVar[str | None] = "id"
    id: strawberry.ID

    @classmethod
    async def visible(cls, info: Info[Context, None], keys: list[str]) -> dict[str, Self]:
        """The objects among ``keys`` the viewer may read through the normal access path,
        by key; any other key is simply absent."""
        raise NotImplementedError

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info[Context, None], node_ids: Iterable[str], required: bool = False
    ) -> list[Self | None]:
        keys = list(node_ids)
        found = await cls.visible(info, keys)
        return [found.get(key) for key in keys]


def node_type(info: Info[Context, None], type_name: str) -> type[AccordNode] | None:
    definition = info.schema.get_type_by_name(type_name)
    if not isinstance(definition, StrawberryObjectDefinition):
        return None
    origin = definition.origin
    return origin if isinstance(origin, type) and issubclass(origin, AccordNode) else None


async def resolve_ids(info: Info[Context, None], ids: Sequence[object]) -> list[Any]:
    """The nodes named by ``ids``, in order; None for each the viewer may not read, that
    names nothing, or that is no global id. One batch per type."""
    wanted: dict[type[AccordNode], list[str]] = {}
    named: list[tuple[type[AccordNode], str] | None] = []
    for raw in ids:
        decoded = decode(raw)
        cls = node_type(info, decoded[0]) if decoded else None
        if decoded is None or cls is None:
            named.append(None)
            continue
        wanted.setdefault(cls, []).append(decoded[1])
        named.append((cls, decoded[1]))
    found = {cls: await cls.visible(info, keys) for cls, keys in wanted.items()}
    return [found[item[0]].get(item[1]) if item else None for item in named]


@strawberry.type
class NodeQueries:
    @strawberry.field(
        description="Any object by its global id, or null when it names nothing you may read."
    )
    async def node(self, info: Info[Context, None], id: strawberry.ID) -> relay.Node | None:
        return (await resolve_ids(info, [id]))[0]

    @strawberry.field(
        description=f"Objects by their global ids, in order (null for any you may not read); "
        f"at most {MAX_NODES}."
    )
    async def nodes(
        self, info: Info[Context, None], ids: list[strawberry.ID]
    ) -> list[relay.Node | None]:
        if len(ids) > MAX_NODES:
            raise ClientError("INVALID", f"at most {MAX_NODES} ids")
        return await resolve_ids(info, ids)


def row_keys(keys: Sequence[str]) -> dict[int, str]:
    """Row ids among ``keys`` (node ids of a type keyed by row id), each to its key."""

    return {row_id: key for key in keys if (row_id := parse_id(key)) is not None}


def row_id_of(raw: object, type_name: str) -> int | None:
    """The row id of the ``type_name`` object an input names (``key_of``), else None."""

    key = key_of(raw, type_name)
    return parse_id(key) if key is not None else None
