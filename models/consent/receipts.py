"""Signed consent receipts: proof a user can keep of what they agreed to and when.

A receipt is a compact JWS (ES256) whose payload carries the Kantara Consent Receipt v1.1
fields (mapped onto ISO/IEC TS 27560 names where they differ) plus the event's chain hash, so
a receipt can be checked against the ledger as well as against the published key at
``/.well-known/jwks.json``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from joserfc import jwt
from joserfc.jwk import ECKey

from accord.settings import Settings
from models.consent.ledger import ConsentEvent, EventKind, EventRecord
from models.consent.policies import PolicyVersion
from models.consent.purposes import Purpose

RECEIPT_VERSION = "KI-CR-v1.1.0"


@lru_cache(maxsize=4)
def _key_from_pem(pem: str) -> ECKey:
    key = ECKey.import_key(pem)
    if key.curve_name != "P-256":
        raise ValueError("the receipt signing key must be an EC P-256 key")
    return key


def signing_key(settings: Settings) -> ECKey:
    """The configured key, or in dev one generated once and kept in the data folder."""
    if settings.receipt_signing_key is not None:
        return _key_from_pem(settings.receipt_signing_key.get_secret_value())
    path = settings.data_dir / "receipt-key.pem"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(ECKey.generate_key("P-256").as_pem(private=True))
        path.chmod(0o600)
    return _key_from_pem(path.read_text())


def key_id(key: ECKey) -> str:
    return key.thumbprint()


def public_jwks(settings: Settings) -> dict[str, Any]:
    key = signing_key(settings)
    public = key.as_dict(private=False)
    public.update({"kid": key_id(key), "use": "sig", "alg": "ES256"})
    return {"keys": [public]}


def receipt_claims(
    event: ConsentEvent | EventRecord,
    purpose: Purpose | None,
    policy: PolicyVersion | None,
    settings: Settings,
) -> dict[str, Any]:
    purposes = []
    if purpose is not None:
        purposes.append(
            {
                "purpose": purpose.title,
                "purposeCode": purpose.code,
                "purposeCategory": [purpose.category],
                "consentType": "EXPLICIT",
                "legalBasis": str(purpose.legal_basis),
                "primaryPurpose": purpose.required,
                "piiCategory": [],
                "termination": "withdrawal by the principal at any time",
                "thirdPartyDisclosure": purpose.code == "advertising",
                "decision": "granted" if event.kind == EventKind.GRANTED else "withdrawn",
            }
        )
    return {
        "version": RECEIPT_VERSION,
        "jurisdiction": settings.jurisdiction,
        "consentTimestamp": int(event.server_timestamp.timestamp()),
        "collectionMethod": f"{event.source} via Accord",
        "consentReceiptID": f"{event.subject}/{event.seq}",
        "language": "en",
        "piiPrincipalId": event.subject,
        "piiControllers": [
            {
                "piiController": settings.controller_name,
                "contact": settings.controller_contact,
                "email": settings.controller_email,
                "phone": settings.controller_phone,
                "address": {"streetAddress": settings.controller_address},
            }
        ],
        "policyUrl": policy.url if policy and policy.url else None,
        "policyVersion": event.policy_version,
        "policyHash": policy.text_sha256 if policy else None,
        "services": [{"service": "Accord", "purposes": purposes}],
        "sensitive": False,
        "spiCat": [],
        "eventKind": str(event.kind),
        "eventSeq": event.seq,
        "eventHash": event.hash,
        "iat": int(event.server_timestamp.timestamp()),
        "jti": event.hash[:32],
    }


def sign_receipt(claims: dict[str, Any], settings: Settings) -> str:
    return receipt_signer(settings)(claims)


def receipt_signer(settings: Settings) -> Callable[[dict[str, Any]], str]:
    """``sign_receipt`` with the key found once, for signing many (an export's receipts):
    finding it (a file in dev) and its key id cost about as much as the signature."""
    key = signing_key(settings)
    header = {"alg": "ES256", "kid": key_id(key), "typ": "JWT"}
    return lambda claims: jwt.encode(header, claims, key)
