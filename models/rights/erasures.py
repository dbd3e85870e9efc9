"""Erasure on request (GDPR Art 17) of parts of a user's data, short of cancelling the account.

A request names kinds of the map and, for each, some of the user's rows or all of them. The
map says which kinds may be named (``PersonalData.erasure_refusal``: never the account itself,
which ``cancelAccount`` deletes, never consent records, never what the law makes Accord
keep). Fulfilling it runs the account deletion's own code for each kind
(``models.rights.deletion.Erasers``) on those rows only: pictures file before row, feedback
per setting, support threads per setting.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from accord.settings import Settings
from models.accounts.account import Account
from models.errors import DomainError
from models.personal.storage import Storage
from models.rights import rows
from models.rights.corrections import clean_note, kind_of
from models.rights.data_map import BY_KIND, PersonalData
from models.rights.data_requests import file_request
from models.rights.deletion import Erasers
from models.rights.errors import RightsErrorCode
from models.rights.requests import DataRequest, DataRequestKind

#: Most rows one request may name.
ROWS_MAX = 100


@dataclass(frozen=True)
class Target:
    """One kind to erase: these rows of it, or (``keys`` None) every row the user has."""

    entry: PersonalData
    keys: list[object] | None

    @property
    def row_ids(self) -> list[str] | None:
        return None if self.keys is None else [str(key) for key in self.keys]


async def _target(
    account: Account, kind: str, raw_keys: Sequence[str] | None, field: str
) -> Target:
    entry = kind_of(kind, field)
    refusal = entry.erasure_refusal()
    if refusal is not None:
        raise DomainError(
            RightsErrorCode.NOT_ERASABLE, field, f"{entry.kind} is not erased on request: {refusal}"
        )
    if raw_keys is None:
        if not await rows.holds_any(entry, account.id):
            raise DomainError(RightsErrorCode.NOT_FOUND, field, f"you have no {entry.kind}")
        return Target(entry, None)
    keys = [rows.parse_key(entry, raw) for raw in raw_keys]
    mine = await rows.owned(entry, account.id, [k for k in keys if k is not None])
    if None in keys or len(set(mine)) != len(set(keys)):
        raise DomainError(RightsErrorCode.NOT_FOUND, "rowIds", f"no such {entry.kind} of yours")
    return Target(entry, list(dict.fromkeys(mine)))


async def request_erasure(
    account: Account,
    settings: Settings,
    *,
    selection: Mapping[str, Sequence[str] | None],
    note: str | None,
) -> DataRequest:
    """File a verified ERASURE request: ``selection`` maps each kind to the row keys named
    (None: every row of the kind)."""
    if not selection:
        raise DomainError(RightsErrorCode.REQUIRED, "kind", "name a kind of data, or rows")
    if sum(len(keys or ()) for keys in selection.values()) > ROWS_MAX:
        raise DomainError(RightsErrorCode.INVALID, "rowIds", f"at most {ROWS_MAX} rows at once")
    field = "kind" if len(selection) == 1 else "rowIds"
    targets = [await _target(account, kind, keys, field) for kind, keys in selection.items()]
    details: dict[str, Any] = {
        "erase": [{"kind": t.entry.kind, "rowIds": t.row_ids} for t in targets],
        "note": clean_note(note),
    }
    return await file_request(
        account, DataRequestKind.ERASURE, settings, verified=True, details=details
    )


def targets_of(details: Mapping[str, Any]) -> list[Target]:
    """What a filed request asks to erase (kinds the map no longer has are skipped)."""
    found = []
    for item in details.get("erase", []):
        entry = BY_KIND.get(item.get("kind", ""))
        if entry is None:
            continue
        raw = item.get("rowIds")
        keys = None if raw is None else [rows.parse_key(entry, str(k)) for k in raw]
        found.append(Target(entry, None if keys is None else [k for k in keys if k is not None]))
    return found


async def apply_erasure(
    account_id: int, targets: list[Target], settings: Settings, storage: Storage
) -> None:
    """Erase what the request names, as account deletion erases it."""
    erasers = Erasers(settings, storage)
    for target in targets:
        if target.entry.erasure_refusal() is not None or not erasers.handles(target.entry):
            raise DomainError(
                RightsErrorCode.NOT_ERASABLE, "id", f"{target.entry.kind} is no longer erasable"
            )
        # Only the user's rows, whatever the keys say.
        keys = (
            None if target.keys is None else await rows.owned(target.entry, account_id, target.keys)
        )
        if keys is None or keys:
            await erasers.erase(target.entry, account_id, keys)
