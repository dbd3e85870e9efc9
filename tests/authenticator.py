"""A software passkey authenticator for tests: what a browser and a platform authenticator
together hand a web page, from the options JSON Accord gives out to the credential JSON
(``PublicKeyCredential.toJSON()``) a page sends back.

ES256 keys from ``cryptography``, CBOR from ``cbor2``; attestation ``"none"``, flags
UP|UV (plus BE|BS: a synced passkey), a sign counter that grows by one per use unless a
test says otherwise, and discoverable credentials (the user handle is kept and answered).
The knobs a test turns to break an answer: ``origin``, ``rp_id``, ``counter``,
``user_verified``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import struct
from dataclasses import dataclass, field
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

ORIGIN = "http://localhost:8000"

UP, UV, BE, BS, AT = 0x01, 0x04, 0x08, 0x10, 0x40
#: All zeros: an authenticator that does not say what it is (as "none" attestation does).
AAGUID = bytes(16)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Credential:
    credential_id: bytes
    key: ec.EllipticCurvePrivateKey
    rp_id: str
    user_handle: bytes
    user_name: str
    counter: int = 0

    def cose_public_key(self) -> bytes:
        numbers = self.key.public_key().public_numbers()
        return cbor2.dumps(
            {
                1: 2,  # kty: EC2
                3: -7,  # alg: ES256
                -1: 1,  # crv: P-256
                -2: numbers.x.to_bytes(32, "big"),
                -3: numbers.y.to_bytes(32, "big"),
            }
        )


@dataclass
class SoftwareAuthenticator:
    credentials: list[Credential] = field(default_factory=list)
    #: The last credential JSON ``get`` answered, for replaying it.
    last_assertion: str | None = None

    def create(
        self,
        options_json: str,
        *,
        origin: str = ORIGIN,
        rp_id: str | None = None,
        user_verified: bool = True,
    ) -> str:
        """``navigator.credentials.create()`` then ``toJSON()``: a new discoverable ES256
        credential for the options' relying party and user."""
        options = json.loads(options_json)
        excluded = {d["id"] for d in options.get("excludeCredentials", [])}
        assert not excluded & {b64url(c.credential_id) for c in self.credentials}, (
            "this authenticator holds an excluded credential (InvalidStateError)"
        )
        credential = Credential(
            credential_id=secrets.token_bytes(32),
            key=ec.generate_private_key(ec.SECP256R1()),
            rp_id=rp_id or options["rp"]["id"],
            user_handle=unb64url(options["user"]["id"]),
            user_name=options["user"]["name"],
        )
        # One credential per (relying party, user): a new one replaces the old.
        self.credentials = [
            c
            for c in self.credentials
            if (c.rp_id, c.user_handle) != (credential.rp_id, credential.user_handle)
        ]
        self.credentials.append(credential)
        client_data = self._client_data("webauthn.create", options["challenge"], origin)
        attested = (
            AAGUID
            + struct.pack(">H", len(credential.credential_id))
            + credential.credential_id
            + credential.cose_public_key()
        )
        auth_data = self._auth_data(credential.rp_id, user_verified, AT, 0) + attested
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return json.dumps(
            {
                "id": b64url(credential.credential_id),
                "rawId": b64url(credential.credential_id),
                "type": "public-key",
                "authenticatorAttachment": "platform",
                "clientExtensionResults": {},
                "response": {
                    "clientDataJSON": b64url(client_data),
                    "attestationObject": b64url(attestation),
                    "transports": ["internal", "hybrid"],
                },
            }
        )

    def get(
        self,
        options_json: str,
        *,
        origin: str = ORIGIN,
        rp_id: str | None = None,
        user_verified: bool = True,
        counter: int | None = None,
        credential: Credential | None = None,
    ) -> str:
        """``navigator.credentials.get()`` then ``toJSON()``: an assertion by the newest
        credential the options allow (any of the relying party's when they list none)."""
        options = json.loads(options_json)
        chosen = credential or self.choose(options)
        if counter is None:
            chosen.counter += 1
            counter = chosen.counter
        client_data = self._client_data("webauthn.get", options["challenge"], origin)
        auth_data = self._auth_data(rp_id or chosen.rp_id, user_verified, 0, counter)
        signature = chosen.key.sign(
            auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256())
        )
        self.last_assertion = json.dumps(
            {
                "id": b64url(chosen.credential_id),
                "rawId": b64url(chosen.credential_id),
                "type": "public-key",
                "authenticatorAttachment": "platform",
                "clientExtensionResults": {},
                "response": {
                    "clientDataJSON": b64url(client_data),
                    "authenticatorData": b64url(auth_data),
                    "signature": b64url(signature),
                    "userHandle": b64url(chosen.user_handle),
                },
            }
        )
        return self.last_assertion

    def choose(self, options: dict[str, Any]) -> Credential:
        allowed = {d["id"] for d in options.get("allowCredentials", [])}
        usable = [
            c
            for c in self.credentials
            if c.rp_id == options["rpId"] and (not allowed or b64url(c.credential_id) in allowed)
        ]
        assert usable, "no credential for these options (NotAllowedError)"
        return usable[-1]

    @staticmethod
    def _client_data(kind: str, challenge: str, origin: str) -> bytes:
        return json.dumps(
            {"type": kind, "challenge": challenge, "origin": origin, "crossOrigin": False},
            separators=(",", ":"),
        ).encode()

    @staticmethod
    def _auth_data(rp_id: str, user_verified: bool, extra_flags: int, counter: int) -> bytes:
        flags = UP | BE | BS | extra_flags | (UV if user_verified else 0)
        return hashlib.sha256(rp_id.encode()).digest() + bytes([flags]) + struct.pack(">I", counter)
