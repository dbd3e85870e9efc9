"""Deleting many rows without one long transaction: a bounded batch at a time.

Each batch is its own statement, so a sweep never holds a lock for long, and running it
twice at once only finds fewer rows the second time.
"""

from __future__ import annotations

from tortoise.expressions import Q
from tortoise.models import Model


async def delete_in_batches(model: type[Model], condition: Q, batch_size: int) -> int:
    """Delete every row matching ``condition``; returns how many were deleted."""
    key = model._meta.pk_attr
    removed = 0
    while keys := await model.filter(condition).limit(batch_size).values_list(key, flat=True):
        removed += await model.filter(**{f"{key}__in": list(keys)}).delete()
    return removed
