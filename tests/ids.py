"""Global ids (``api.nodes``) in tests: what a client gets, and the row key a test needs to
look at the database behind it."""

from __future__ import annotations

import base64


def key(global_id: str) -> str:
    """The key inside a global id (a row id, a UUID, a code)."""
    _, _, value = base64.b64decode(global_id).decode().partition(":")
    return value


def pk(global_id: str) -> int:
    """The row id inside a global id."""
    return int(key(global_id))


def type_of(global_id: str) -> str:
    return base64.b64decode(global_id).decode().partition(":")[0]


def gid(type_name: str, value: object) -> str:
    """The global id of the ``type_name`` object ``value``, as Accord writes it."""
    return base64.b64encode(f"{type_name}:{value}".encode()).decode()
