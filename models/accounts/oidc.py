"""OpenID Connect ID tokens, verified locally against each configured provider.

Checked: the signature (RS256 or ES256 only, with the provider's JWKS, so ``alg: none`` and
HMAC-with-the-public-key tricks fail), ``iss``, ``aud`` (the client id), ``exp``, ``iat``,
``sub``, and ``nonce`` when the caller gives one. joserfc does the cryptography.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from models.accounts.errors import AccountErrorCode
from models.errors import DomainError

ALGORITHMS = ["RS256", "ES256"]
MAX_TOKEN_LENGTH = 16_384
CLOCK_LEEWAY_SECONDS = 60


@dataclass(frozen=True)
class Identity:
    provider: str
    subject: str
    nickname: str | None
    picture: str | None
    #: When the user last proved who they are to the provider (``auth_time``, else ``iat``),
    #: in seconds since the epoch.
    authenticated_at: float = 0.0


@lru_cache(maxsize=32)
def _key_set(jwks_json: str) -> KeySet:
    return KeySet.import_key_set(json.loads(jwks_json))


def _provider_keys(provider: dict[str, Any]) -> KeySet:
    if "jwks" in provider:
        jwks = provider["jwks"]
        return _key_set(jwks if isinstance(jwks, str) else json.dumps(jwks, sort_keys=True))
    return _key_set(Path(provider["jwks_file"]).read_text())


def verify_id_token(
    providers: dict[str, dict[str, Any]],
    provider: str,
    id_token: str,
    nonce: str | None = None,
    field: str = "idToken",
) -> Identity:
    config = providers.get(provider)
    if config is None:
        raise DomainError(
            AccountErrorCode.UNKNOWN_PROVIDER, "provider", f"unknown provider {provider!r}"
        )
    if not id_token or len(id_token) > MAX_TOKEN_LENGTH:
        raise DomainError(AccountErrorCode.INVALID_TOKEN, field, "the identity token is malformed")
    try:
        token = jwt.decode(id_token, _provider_keys(config), algorithms=ALGORITHMS)
        options: dict[str, Any] = {
            "iss": {"essential": True, "value": config["issuer"]},
            "aud": {"essential": True, "value": config["client_id"]},
            "exp": {"essential": True},
            "iat": {"essential": True},
            "sub": {"essential": True},
        }
        if nonce is not None:
            options["nonce"] = {"essential": True, "value": nonce}
        jwt.JWTClaimsRegistry(leeway=CLOCK_LEEWAY_SECONDS, **options).validate(token.claims)
    except (JoseError, ValueError, TypeError) as error:
        raise DomainError(
            AccountErrorCode.INVALID_TOKEN, field, "the identity token could not be verified"
        ) from error
    claims = token.claims
    subject = claims["sub"]
    if not isinstance(subject, str) or not 1 <= len(subject) <= 255:
        raise DomainError(
            AccountErrorCode.INVALID_TOKEN, field, "the identity token has a bad subject"
        )
    # OpenID Connect Core 3.1.3.7: with several audiences the authorized party must be us,
    # and a token authorized for another client is not ours whatever its audience says.
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    azp = claims.get("azp")
    if (azp is not None or len(audiences) > 1) and azp != config["client_id"]:
        raise DomainError(
            AccountErrorCode.INVALID_TOKEN, field, "the identity token was issued to another client"
        )
    auth_time = claims.get("auth_time")
    if not _is_number(auth_time):
        auth_time = claims["iat"]
    nickname = claims.get("nickname") or claims.get("name")
    picture = claims.get("picture")
    return Identity(
        provider=provider,
        subject=subject,
        nickname=nickname if isinstance(nickname, str) else None,
        picture=picture if isinstance(picture, str) else None,
        authenticated_at=float(auth_time),
    )


def _is_number(value: Any) -> bool:
    # NaN, infinities and ints too big for a float (JSON allows all three) are no time.
    return isinstance(value, (int, float)) and not isinstance(value, bool) and abs(value) < 2**63
