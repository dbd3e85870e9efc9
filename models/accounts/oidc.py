"""OpenID Connect ID tokens, verified locally against each configured provider's keys.

Checked: the signature (RS256 or ES256 only, with the provider's JWKS, so ``alg: none`` and
HMAC-with-the-public-key tricks fail), ``iss``, ``aud`` (the client id), ``exp``, ``iat``,
``sub``, and ``nonce`` when the caller gives one. joserfc does the cryptography;
``models.accounts.provider_keys`` holds the keys, fetched from the provider when it is
configured with its discovery document, and fetched again when a token names a key they
lack (the provider has rotated its keys).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeGuard

from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet

from models.accounts.errors import AccountErrorCode
from models.accounts.provider_keys import ProviderKeys
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


async def _decode(keys: ProviderKeys, provider: str, id_token: str) -> jwt.Token:
    """The token's signature checked with the provider's keys; when it names a key they
    lack, once more with the provider's newest keys (if a fetch is allowed now)."""
    key_set: KeySet = await keys.key_set(provider)
    try:
        return jwt.decode(id_token, key_set, algorithms=ALGORITHMS)
    except InvalidKeyIdError:
        newer = await keys.refresh(provider, key_set)
        if newer is None:
            raise
        return jwt.decode(id_token, newer, algorithms=ALGORITHMS)


async def verify_id_token(
    keys: ProviderKeys,
    provider: str,
    id_token: str,
    nonce: str | None = None,
    field: str = "idToken",
) -> Identity:
    config = keys.config(provider)
    if config is None:
        raise DomainError(
            AccountErrorCode.UNKNOWN_PROVIDER, "provider", f"unknown provider {provider!r}"
        )
    if not id_token or len(id_token) > MAX_TOKEN_LENGTH:
        raise DomainError(AccountErrorCode.INVALID_TOKEN, field, "the identity token is malformed")
    try:
        token = await _decode(keys, provider, id_token)
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


def _is_number(value: Any) -> TypeGuard[int | float]:
    # NaN, infinities and ints too big for a float (JSON allows all three) are no time.
    return isinstance(value, (int, float)) and not isinstance(value, bool) and abs(value) < 2**63
