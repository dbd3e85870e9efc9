"""Device ids an earlier version stored in the clear, converted (issue 17): every table
that finds a device's rows holds its reference now (``models.keys.device_refs``), and a
device's consent chain is named by it. ``accord migrate`` (and ``accord dev``) run this
after the migrations and before sealing what is left in the clear
(``models.keys.backfill``), since what a device recorded is sealed under the key its
reference names. Resumable and idempotent: each run looks for ids not converted yet.

A chain cannot be renamed in place (its hashes cover its name): each is rebuilt under the
new name (``models.consent.ledger.rename_device_chain``), every field kept, after a
REKEYED event that records how many events were carried over and where the old chain
ended. Receipts issued for the old events still verify by their signature; their
``eventHash`` names the old chain, whose last hash the REKEYED event records. An app's sync
cursor on the old chain no longer reads: its next sync starts over, and what it sends again
is stored once (its idempotency keys carried over).
"""

from __future__ import annotations

from tortoise import connections
from tortoise.models import Model

from models.consent.ledger import ConsentChain, DeviceLink, rename_device_chain
from models.keys.device_refs import MARK, device_ref, device_subject, device_subject_of
from models.personal.activity import ClickRecord, SearchRecord
from models.personal.devices import Device
from models.personal.error_reports import ErrorReport

#: The tables that hold a device's reference in ``device_id``.
REFERENCED = (Device, DeviceLink, SearchRecord, ClickRecord, ErrorReport)


async def convert_device_ids() -> int:
    """Convert every device id still stored in the clear; returns how many ids (per table)
    and chains were converted."""
    converted = 0
    for model in REFERENCED:
        converted += await _convert_column(model)
    legacy = (
        await ConsentChain.filter(subject__startswith=device_subject_of(""))
        .exclude(subject__startswith=device_subject_of(MARK))
        .values_list("subject", flat=True)
    )
    for subject in legacy:
        device_id = str(subject).removeprefix(device_subject_of(""))
        converted += await rename_device_chain(str(subject), device_subject(device_id))
    return converted


async def _convert_column(model: type[Model]) -> int:
    db = connections.get(model._meta.default_connection or "default")
    table = model._meta.db_table
    marks = ("$1", "$2") if db.capabilities.dialect == "postgres" else ("?", "?")
    # The table's name from its model; the one values, parameters.
    found = await db.execute_query_dict(
        f'SELECT DISTINCT device_id FROM "{table}" '  # noqa: S608
        f"WHERE device_id IS NOT NULL AND device_id NOT LIKE '{MARK}%'"
    )
    for row in found:
        raw = row["device_id"]
        await db.execute_query(
            f'UPDATE "{table}" SET device_id = {marks[0]} WHERE device_id = {marks[1]}',  # noqa: S608
            [device_ref(raw), raw],
        )
    return len(found)
