"""Checking a consent receipt against the published anchors, offline: with only the receipt
(and, for one issued before its anchor existed, its proof), and the public keys of
``/.well-known/jwks.json``. No database: what ``accord anchors verify`` runs, and the steps
``docs/consent-anchors.md`` lists for anyone who writes their own.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from models.merkle import verify_inclusion


class NotVerified(Exception):
    """A step failed; the message says which, in plain words."""


@dataclass
class Verified:
    """What a verified receipt was proven against: compare the anchor with the one
    published (or one you kept) for its period."""

    receipt_id: str
    anchor_period: str
    root_hash: str
    tree_size: int
    steps: list[str] = field(default_factory=list)


def _decode(token: str, keys: KeySet, what: str) -> dict[str, Any]:
    try:
        claims: dict[str, Any] = jwt.decode(token, keys, algorithms=["ES256"]).claims
    except (JoseError, ValueError) as error:
        raise NotVerified(f"the {what}'s signature does not verify ({error})") from None
    return claims


def _anchor_proof(receipt: dict[str, Any], proof: str | None, keys: KeySet) -> dict[str, Any]:
    embedded = receipt.get("anchor")
    if isinstance(embedded, dict):
        return embedded
    if proof is None:
        raise NotVerified(
            "the receipt carries no anchor proof: it was issued before its anchor; fetch "
            "one (consentAnchorProof) and give it with the receipt"
        )
    claims = _decode(proof, keys, "proof")
    for name in ("consentReceiptID", "eventSeq", "eventHash"):
        if claims.get(name) != receipt.get(name):
            raise NotVerified(f"the proof is for another receipt ({name} differs)")
    anchor: dict[str, Any] = claims["anchor"]
    return anchor


def chained_head(receipt: dict[str, Any], events_after: list[str]) -> tuple[int, str]:
    """Follow the chain from the receipt's event through the events after it: each one's
    hash is SHA-256(previous hash as hex text || its canonical JSON)."""
    seq, digest = receipt["eventSeq"], receipt["eventHash"]
    for text in events_after:
        event = json.loads(text)
        if event.get("subject") != receipt["piiPrincipalId"] or event.get("seq") != seq + 1:
            raise NotVerified(f"event {seq + 1} after the receipt's is not of its chain")
        digest = hashlib.sha256(digest.encode() + text.encode()).hexdigest()
        seq += 1
    return seq, digest


def verify_receipt(receipt: str, jwks: dict[str, Any], proof: str | None = None) -> Verified:
    """Every step, in order; NotVerified names the first that fails."""
    try:
        keys = KeySet.import_key_set(jwks)  # type: ignore[arg-type]
    except (JoseError, ValueError, KeyError, TypeError) as error:
        raise NotVerified(f"the key set cannot be read ({error})") from None
    claims = _decode(receipt, keys, "receipt")
    steps = ["the receipt's signature verifies with the published key"]
    try:
        anchor = _anchor_proof(claims, proof, keys)
        published = _decode(anchor["token"], keys, "anchor")
        steps.append(f"the anchor of {published['anchorPeriod']} is signed by the same key")
        seq, head = chained_head(claims, list(anchor["eventsAfter"]))
        if (seq, head) != (anchor["headSeq"], anchor["headHash"]):
            raise NotVerified("the receipt's event does not chain to the anchored head")
        steps.append(f"the event chains to the head its chain had in the anchor (seq {seq})")
        leaf = (
            bytes.fromhex(anchor["chainKey"])
            + int(anchor["headSeq"]).to_bytes(8, "big")
            + bytes.fromhex(anchor["headHash"])
        )
        path = [bytes.fromhex(node) for node in anchor["auditPath"]]
        root = bytes.fromhex(published["rootHash"])
        if not verify_inclusion(leaf, int(anchor["leafIndex"]), published["treeSize"], path, root):
            raise NotVerified("the audit path does not lead to the anchor's root")
        steps.append(
            f"the head is leaf {anchor['leafIndex']} of {published['treeSize']} under root "
            f"{published['rootHash']}"
        )
    except (KeyError, TypeError, ValueError, OverflowError) as error:
        raise NotVerified(f"the proof is malformed ({error!r})") from None
    return Verified(
        claims["consentReceiptID"],
        published["anchorPeriod"],
        published["rootHash"],
        published["treeSize"],
        steps,
    )
