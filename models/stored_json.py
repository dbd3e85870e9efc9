"""Whether a JSON value from a client can be stored as it is, on SQLite and PostgreSQL.

Clients send free-form JSON in a few places (a device's configuration with an error report,
questionnaires and their answers); a value the database would refuse must be the caller's
typed error, never a failed insert.
"""

from __future__ import annotations

import math


def storable_json(value: object, depth_max: int) -> bool:
    """Whether a JSON value can be stored as it is: nested at most ``depth_max`` levels, no
    NUL or lone surrogate in any string or key, no NaN or infinity (PostgreSQL's jsonb
    refuses the last three). Walked without recursion, so no nesting can overflow the stack."""
    pending: list[tuple[object, int]] = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if depth > depth_max:
            return False
        if isinstance(item, str):
            if "\x00" in item:
                return False
            try:
                item.encode()
            except UnicodeEncodeError:  # a lone surrogate
                return False
        elif isinstance(item, float):
            if not math.isfinite(item):
                return False
        elif isinstance(item, dict):
            pending.extend((key, depth + 1) for key in item)
            pending.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            pending.extend((child, depth + 1) for child in item)
    return True
