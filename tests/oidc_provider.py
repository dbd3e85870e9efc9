"""A test OpenID Connect provider: keys made at test time, ID tokens minted on demand.

``TestIdP`` holds an RS256 and an ES256 signing key (both published in its JWKS) and a
stranger key that is not published. It mints ID tokens with any claims, and the bad ones a
relying party must refuse: expired, wrong audience, wrong issuer, wrong key, ``alg: none``
and an HMAC token keyed with the public key (algorithm confusion).

``provider_app(app_with, tmp_path, **settings)`` starts a second app whose settings trust
two such providers, ``acme`` (JWKS inline, RSA and EC keys) and ``globex`` (JWKS from a
file, EC only), and gives a ``gql`` for it. A test module makes its fixture from it::

    @pytest.fixture
    async def provider(app_with, tmp_path):
        async with provider_app(app_with, tmp_path) as app:
            yield app
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

from tests.conftest import GraphQL

ACME_ISSUER = "https://id.acme.test"
ACME_CLIENT_ID = "accord-acme-client"
GLOBEX_ISSUER = "https://login.globex.test/v2"
GLOBEX_CLIENT_ID = "accord-globex-client"
DISCOVERY = "/.well-known/openid-configuration"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64json(value: Any) -> str:
    return _b64(json.dumps(value, separators=(",", ":")).encode())


class TestIdP:
    """One OpenID Connect provider: its issuer, the client id it issues tokens for, keys."""

    __test__ = False  # not a test class, whatever its name

    def __init__(self, name: str, issuer: str, client_id: str, *, rsa: bool = True) -> None:
        self.name = name
        self.issuer = issuer
        self.client_id = client_id
        self.rsa_key = (
            RSAKey.generate_key(2048, parameters={"kid": f"{name}-rsa-1", "use": "sig"})
            if rsa
            else None
        )
        self.ec_key = ECKey.generate_key("P-256", parameters={"kid": f"{name}-ec-1", "use": "sig"})
        #: Not in the JWKS; shares the published RSA/EC key's kid to make the forgery harder.
        self.stranger_rsa = RSAKey.generate_key(2048, parameters={"kid": f"{name}-rsa-1"})
        self.stranger_ec = ECKey.generate_key("P-256", parameters={"kid": f"{name}-ec-1"})

    # --- what the relying party is configured with --------------------------------------
    @property
    def jwks(self) -> dict[str, Any]:
        keys = [k for k in (self.rsa_key, self.ec_key) if k is not None]
        return {"keys": [k.as_dict(private=False) for k in keys]}

    def config(self) -> dict[str, Any]:
        return {"issuer": self.issuer, "client_id": self.client_id, "jwks": self.jwks}

    # --- minting ------------------------------------------------------------------------
    def claims(self, sub: str, **overrides: Any) -> dict[str, Any]:
        """Standard ID token claims; an override of ``None`` removes that claim."""
        now = int(time.time())
        values: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.client_id,
            "sub": sub,
            "iat": now,
            "exp": now + 600,
        }
        values.update(overrides)
        return {k: v for k, v in values.items() if v is not None}

    def id_token(
        self,
        sub: str = "subject-1",
        *,
        alg: str = "RS256",
        key: RSAKey | ECKey | None = None,
        kid: str | None = None,
        **claims: Any,
    ) -> str:
        """A token signed with the published key for ``alg`` (or ``key``)."""
        if key is None:
            key = self.ec_key if alg == "ES256" else self.rsa_key
        assert key is not None, f"{self.name} has no key for {alg}"
        header = {"alg": alg, "kid": kid or key.kid}
        return jwt.encode(header, self.claims(sub, **claims), key, algorithms=[alg])

    def expired(self, sub: str = "subject-1", **claims: Any) -> str:
        now = int(time.time())
        return self.id_token(sub, iat=now - 7200, exp=now - 3600, **claims)

    def wrong_audience(self, sub: str = "subject-1", **claims: Any) -> str:
        return self.id_token(sub, aud="someone-elses-client", **claims)

    def wrong_issuer(self, sub: str = "subject-1", **claims: Any) -> str:
        return self.id_token(sub, iss="https://evil.example", **claims)

    def wrong_key(self, sub: str = "subject-1", *, alg: str = "RS256", **claims: Any) -> str:
        key = self.stranger_ec if alg == "ES256" else self.stranger_rsa
        return self.id_token(sub, alg=alg, key=key, **claims)

    def alg_none(self, sub: str = "subject-1", **claims: Any) -> str:
        """Unsigned: header ``{"alg": "none"}``, the claims, and an empty signature."""
        return f"{_b64json({'alg': 'none'})}.{_b64json(self.claims(sub, **claims))}."

    def hmac_with_public_key(self, sub: str = "subject-1", **claims: Any) -> str:
        """HS256 keyed with the RSA public key's PEM: the classic algorithm confusion."""
        assert self.rsa_key is not None
        secret = self.rsa_key.as_pem(private=False)
        signing_input = (
            f"{_b64json({'alg': 'HS256', 'kid': self.rsa_key.kid})}."
            f"{_b64json(self.claims(sub, **claims))}"
        )
        signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
        return f"{signing_input}.{_b64(signature)}"


@cache
def acme() -> TestIdP:
    """Generated once per run: RSA key generation is the slow part."""
    return TestIdP("acme", ACME_ISSUER, ACME_CLIENT_ID)


@cache
def globex() -> TestIdP:
    return TestIdP("globex", GLOBEX_ISSUER, GLOBEX_CLIENT_ID, rsa=False)


def new_subject() -> str:
    return "sub-" + secrets.token_hex(6)


@dataclass
class ProviderApp:
    """An app that trusts ``acme`` and ``globex``, and the providers themselves."""

    http: httpx.AsyncClient
    gql: GraphQL
    acme: TestIdP
    globex: TestIdP


def provider_settings(tmp_path: Path) -> dict[str, Any]:
    jwks_file = tmp_path / "globex-jwks.json"
    jwks_file.write_text(json.dumps(globex().jwks))
    return {
        "oidc_providers": {
            "acme": acme().config(),
            "globex": {
                "issuer": GLOBEX_ISSUER,
                "client_id": GLOBEX_CLIENT_ID,
                "jwks_file": str(jwks_file),
            },
        }
    }


@asynccontextmanager
async def provider_app(app_with, tmp_path: Path, **overrides: Any) -> AsyncIterator[ProviderApp]:
    """An app trusting both providers, with other settings changed too."""
    async with app_with(**provider_settings(tmp_path), **overrides) as http:
        yield ProviderApp(http=http, gql=GraphQL(http), acme=acme(), globex=globex())


class ServedIdP:
    """A ``TestIdP`` (EC keys only) whose discovery document and JWKS are served over real
    HTTP on 127.0.0.1, as a provider's are: its keys can be rotated and the server taken
    down while an app uses it, and every fetch is counted.

    ::

        with ServedIdP("rotating") as idp:
            settings = {"oidc_providers": {"rotating": idp.config()}}
    """

    def __init__(self, name: str = "served") -> None:
        self.name = name
        self.fetches: dict[str, int] = {"discovery": 0, "jwks": 0}
        #: None serves normally; an HTTP status answers every request with it instead.
        self.failing_with: int | None = None
        #: The issuer the discovery document names (the configured one unless a test lies).
        self.discovery_issuer: str | None = None
        self._server: ThreadingHTTPServer | None = None

    def __enter__(self) -> ServedIdP:
        served = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == DISCOVERY:
                    served.fetches["discovery"] += 1
                    body = {
                        "issuer": served.discovery_issuer or served.issuer,
                        "jwks_uri": f"{served.issuer}/keys",
                        "authorization_endpoint": f"{served.issuer}/authorize",
                        "response_types_supported": ["id_token"],
                        "subject_types_supported": ["public"],
                        "id_token_signing_alg_values_supported": ["ES256"],
                    }
                elif self.path == "/keys":
                    served.fetches["jwks"] += 1
                    body = served.idp.jwks
                else:
                    body = None
                status = served.failing_with or (200 if body is not None else 404)
                data = json.dumps(body if status == 200 else {"error": status}).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.issuer = f"http://127.0.0.1:{self._server.server_address[1]}"
        self.idp = TestIdP(self.name, self.issuer, f"accord-{self.name}-client", rsa=False)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()

    @property
    def discovery_url(self) -> str:
        return self.issuer + DISCOVERY

    def config(self, **extra: Any) -> dict[str, Any]:
        """What the relying party is configured with: the issuer and its discovery."""
        return {
            "issuer": self.issuer,
            "client_id": self.idp.client_id,
            "discovery": self.discovery_url,
            **extra,
        }

    def id_token(self, sub: str = "subject-1", **claims: Any) -> str:
        return self.idp.id_token(sub, alg="ES256", **claims)

    def rotate(self) -> None:
        """A new signing key replaces the published one, under a new kid."""
        kid = f"{self.name}-ec-{secrets.token_hex(4)}"
        self.idp.ec_key = ECKey.generate_key("P-256", parameters={"kid": kid, "use": "sig"})
