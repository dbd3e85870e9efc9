"""Per-request batch loaders, so lists of events never cost a query per row."""

from __future__ import annotations

from strawberry.dataloader import DataLoader

from models.consent.ledger import DeviceLink, account_subject
from models.consent.policies import PolicyVersion
from models.consent.purposes import Purpose
from models.keys.device_refs import device_subject_of


async def _purposes(codes: list[str]) -> list[Purpose | None]:
    found = {p.code: p for p in await Purpose.filter(code__in=list(set(codes)))}
    return [found.get(c) for c in codes]


async def _policies(versions: list[str]) -> list[PolicyVersion | None]:
    found = {v.version: v for v in await PolicyVersion.filter(version__in=list(set(versions)))}
    return [found.get(v) for v in versions]


async def _subjects(account_ids: list[int]) -> list[list[str]]:
    links = await DeviceLink.filter(account_id__in=list(set(account_ids))).values_list(
        "account_id", "device_id"
    )
    devices: dict[int, list[str]] = {}
    for account_id, ref in links:  # a link holds the device's reference, not its id
        devices.setdefault(account_id, []).append(device_subject_of(ref))
    return [[account_subject(a), *sorted(devices.get(a, []))] for a in account_ids]


class ConsentLoaders:
    def __init__(self) -> None:
        self.purpose = DataLoader(load_fn=_purposes)
        self.policy = DataLoader(load_fn=_policies)
        #: An account's subjects: its own and its linked devices' (see models.consent.ledger).
        self.subjects = DataLoader(load_fn=_subjects)
