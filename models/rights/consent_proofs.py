"""What lets a user prove their consent history without trusting us: each chain checked
(``consent_verification.json``, with how to recompute it), a signed receipt of every
decision (``consent_receipts.json``) and the public key they verify with
(``receipt_keys.json``). The events themselves are ``consent_event.json``, from the map.
"""

from __future__ import annotations

import zipfile
from collections.abc import AsyncIterator
from typing import Any

from accord.settings import Settings
from models.consent.ledger import (
    RECORD_FIELDS,
    ConsentEvent,
    EventKind,
    EventRecord,
    verify_chain,
)
from models.consent.policies import PolicyVersion
from models.consent.purposes import Purpose
from models.consent.receipts import RECEIPT_VERSION, public_jwks, receipt_claims, receipt_signer
from models.hash_chains import GENESIS
from models.keys.sealed_fields import open_values
from models.rights.subject_rows import DataSubject
from models.rights.zip_entries import dumps, rows_chunk, write_array, write_bytes

VERIFICATION = "consent_verification.json"
RECEIPTS = "consent_receipts.json"
KEYS = "receipt_keys.json"

#: The events a receipt is signed for: the user's own decisions, and a guardian's.
RECEIPT_KINDS = (
    EventKind.GRANTED,
    EventKind.WITHDRAWN,
    EventKind.POLICY_ACCEPTED,
    EventKind.GUARDIAN_CONSENTED,
    EventKind.GUARDIAN_WITHDRAWN,
)

#: How ``models.consent.ledger.canonical`` names each column of ``consent_event.json``.
CANONICAL_NAMES = {
    "subject": "subject",
    "seq": "seq",
    "kind": "kind",
    "purpose_code": "purpose",
    "policy_version": "policyVersion",
    "source": "source",
    "device_id": "deviceId",
    "client_timestamp": "clientTimestamp",
    "server_timestamp": "serverTimestamp",
    "idempotency_key": "idempotencyKey",
    "user_agent": "userAgent",
    "client_address": "clientAddress",
    "detail": "detail",
}

HOW_TO_VERIFY = (
    "Each event's hash is the hex SHA-256 of the previous event's hash (ASCII hex; 64 zeros "
    "for the first event of a chain) followed by the event's canonical JSON: an object "
    "with the keys of canonical_names, sorted, no spaces, UTF-8, timestamps in UTC as "
    "YYYY-MM-DDTHH:MM:SS.ffffff+00:00. Events of a chain follow each other by seq, each "
    "prev_hash is the hash before it, and the last hash is the chain's head "
    "(consent_chain.json)."
)


async def write_consent_proofs(
    archive: zipfile.ZipFile, subject: DataSubject, settings: Settings, batch_size: int
) -> dict[str, int]:
    """The three files; how many chains and receipts they hold."""
    chains = [await _check(name) for name in subject.subjects]
    document = {
        "how_to_verify": HOW_TO_VERIFY,
        "genesis": GENESIS,
        "canonical_names": CANONICAL_NAMES,
        "chains": chains,
    }
    await write_bytes(archive, VERIFICATION, dumps(document), stored=False)
    await write_bytes(archive, KEYS, dumps(_keys(settings)), stored=False)
    receipts = await write_array(
        archive, RECEIPTS, _receipts(subject, settings, batch_size), _receipt_rows(settings)
    )
    return {VERIFICATION: len(chains), KEYS: 1, RECEIPTS: receipts}


async def _check(name: str) -> dict[str, Any]:
    """One chain recomputed here, a page of events at a time."""
    check = await verify_chain(name)
    return {
        "subject": name,
        "verified": check.ok,
        "events_checked": check.checked,
        "first_broken_event_id": check.first_broken_event_id,
    }


def _keys(settings: Settings) -> dict[str, Any]:
    base = settings.link_base
    return {
        "algorithm": "ES256",
        "receipt_version": RECEIPT_VERSION,
        "published_at": f"{base}/.well-known/jwks.json" if base else "/.well-known/jwks.json",
        "how_to_verify": "Each receipt is a compact JWS (header.payload.signature). Verify "
        "its ES256 signature with the key of this key set whose kid is the receipt "
        "header's kid (any JOSE library does it: e.g. jwt.io, or "
        "`joserfc.jwt.decode(receipt, KeySet.import_key_set(keys), algorithms=['ES256'])` in "
        "Python). The payload's eventHash is the hash of the event in consent_event.json.",
        "keys": public_jwks(settings),
    }


async def _receipts(
    subject: DataSubject, settings: Settings, batch_size: int
) -> AsyncIterator[list[tuple[EventRecord, dict[str, Any]]]]:
    """The user's decisions with their receipt claims, a keyset batch at a time (read as
    plain records: a model instance per event costs a third of a signature)."""
    purposes = {purpose.code: purpose for purpose in await Purpose.all()}
    policies: dict[str, PolicyVersion | None] = {}
    after = 0
    while True:
        rows = (
            await ConsentEvent.filter(
                subject__in=list(subject.subjects), kind__in=list(RECEIPT_KINDS), id__gt=after
            )
            .order_by("id")
            .limit(batch_size)
            .values(*RECORD_FIELDS)
        )
        await open_values(ConsentEvent, rows)
        events = [EventRecord(**row) for row in rows]
        batch = []
        for event in events:
            version = event.policy_version
            if version is not None and version not in policies:
                policies[version] = await PolicyVersion.get_or_none(version=version)
            policy = policies.get(version) if version is not None else None
            purpose = purposes.get(event.purpose_code or "")
            batch.append((event, receipt_claims(event, purpose, policy, settings)))
        if batch:
            yield batch
        if len(events) < batch_size:
            return
        after = events[-1].id or 0


def _receipt_rows(settings: Settings) -> Any:
    sign = receipt_signer(settings)

    def encode(batch: list[tuple[EventRecord, dict[str, Any]]], first: bool) -> bytes:
        """Signed in the writer's thread: signing is most of a receipt's cost."""
        rows = [
            {
                "event_id": event.id,
                "subject": event.subject,
                "seq": event.seq,
                "kind": event.kind,
                "receipt": sign(claims),
            }
            for event, claims in batch
        ]
        return rows_chunk(rows, first)

    return encode
