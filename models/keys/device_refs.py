"""A device's id is the app install's secret (``models.consent.ledger.clean_device_id``):
Accord stores it only sealed, where it must be shown again (a consent event's ``deviceId``).
Every table that finds a device's rows by it holds the device's *reference* instead: a
keyed hash of the id (HMAC-SHA256 under the deployment's secret, ``models.keyed_hashes``),
128 bits as hex after a ``#``, a character no device id holds, so that an id an earlier
version stored is told apart and converted (``models.keys.device_backfill``).

The same reference names the device's consent chain (``device:#<ref>``) and its data key.
Changing ``ACCORD_SECRET_KEY`` makes every reference unrecognisable, as it does every keyed
hash.
"""

from __future__ import annotations

from models.keyed_hashes import keyed_hash
from models.keys import key_ring

#: What starts a reference, and no device id.
MARK = "#"
#: The length of a reference: the mark and 32 hex digits.
REF_LENGTH = 33


def device_ref(device_id: str) -> str:
    """The reference a device is found by, for its id."""
    return MARK + keyed_hash(key_ring.installed(), "device id", device_id)[:32]


def is_ref(value: str) -> bool:
    return value.startswith(MARK)


def device_subject_of(ref: str) -> str:
    """The device's consent chain and data key, by its reference."""
    return f"device:{ref}"


def device_subject(device_id: str) -> str:
    """The device's consent chain and data key, by its id."""
    return device_subject_of(device_ref(device_id))
