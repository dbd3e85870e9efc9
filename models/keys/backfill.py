"""Sealing what was stored before sealed fields: a database from an earlier Accord holds
its personal columns in plain text and has no blind indexes, so no one could sign in.
``accord migrate`` (and ``accord dev``) run this after the migrations, with the keys the
migrations cannot have. Resumable and idempotent: it looks for plain values each time, and
a row sealed meanwhile by the service is not selected again.
"""

from __future__ import annotations

from tortoise import Tortoise, connections

from models.keys.data_keys import KeyDestroyed
from models.keys.sealed_fields import PREFIX, SealedField, SealedModel, sealed_fields_of

BATCH = 200


async def seal_plain_values() -> int:
    """Seal every plain personal value left in a sealed column; returns the rows sealed.
    A row whose subject's key was destroyed holds only placeholders (a tombstone) and is
    left as it is."""
    sealed = 0
    for model in Tortoise.apps.get_models_iterable():
        if not issubclass(model, SealedModel) or model._meta.abstract:
            continue
        sealed += await _seal_model(model)
    return sealed


def _plain_in(field: SealedField) -> str:
    """SQL true where the column holds a plain value to seal: not empty, not sealed, not one
    of the field's placeholders (constants of the code, quoted here)."""
    column = field.source_field or field.model_field_name
    condition = f"\"{column}\" <> '' AND \"{column}\" NOT LIKE '{PREFIX}%'"
    if field.placeholders:
        quoted = ", ".join("'" + text.replace("'", "''") + "'" for text in field.placeholders)
        condition += f' AND "{column}" NOT IN ({quoted})'
    return f"({condition})"


async def _seal_model(model: type[SealedModel]) -> int:
    fields = sealed_fields_of(model)
    meta, db = model._meta, connections.get(model._meta.default_connection or "default")
    pk = meta.fields_map[meta.pk_attr].source_field or meta.pk_attr
    plain = " OR ".join(_plain_in(field) for field in fields)
    mark = "$1" if db.capabilities.dialect == "postgres" else "?"
    # Names from the models' own metadata; the one value, the last key seen, a parameter
    # (the first batch has none: a key may be a number, a text or a UUID).
    select = f'SELECT "{pk}" FROM "{meta.db_table}" WHERE ({plain})'  # noqa: S608
    order = f'ORDER BY "{pk}" LIMIT {BATCH}'
    names = [f.model_field_name for f in fields]
    sealed, after = 0, None
    while True:
        if after is None:
            found = await db.execute_query_dict(f"{select} {order}")
        else:
            found = await db.execute_query_dict(f'{select} AND "{pk}" > {mark} {order}', [after])
        if not found:
            return sealed
        for row in await model.filter(pk__in=[r[pk] for r in found]):
            try:
                await row.save(update_fields=names)
                sealed += 1
            except KeyDestroyed:
                pass  # a tombstone: its placeholders are not personal
        after = found[-1][pk]
