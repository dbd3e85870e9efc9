"""Authentication factors and levels: what a sign-in or a step-up proved.

A *first factor* says who you are (the password, a bound provider's ID token); a *second
factor* proves something more that only the account's owner holds (a TOTP authenticator, a
single-use recovery code). A passkey is both: a key only the owner's device holds, which
that device uses only after its own user verification (a PIN, a fingerprint, a face), so
one passkey answer is a multi-factor authentication by itself (NIST SP 800-63B's
multi-factor cryptographic authenticator, AAL2 and up). A session records the level its
authentication reached (``Session.auth_level``). Which factors an account has is
``models.accounts.factors``.
"""

from __future__ import annotations

from enum import StrEnum


class Factor(StrEnum):
    PASSWORD = "PASSWORD"
    #: An ID token of a bound OpenID Connect provider.
    PROVIDER = "PROVIDER"
    TOTP = "TOTP"
    RECOVERY_CODE = "RECOVERY_CODE"
    PASSKEY = "PASSKEY"


class AuthLevel(StrEnum):
    SINGLE_FACTOR = "SINGLE_FACTOR"
    MULTI_FACTOR = "MULTI_FACTOR"


#: Factors that say who you are; a sign-in starts with one of them.
FIRST_FACTORS = frozenset({Factor.PASSWORD, Factor.PROVIDER, Factor.PASSKEY})
#: Factors that make an authentication multi-factor when proven with a first factor (a
#: password sign-in completed with a passkey, for one).
SECOND_FACTORS = frozenset({Factor.TOTP, Factor.RECOVERY_CODE, Factor.PASSKEY})
#: Factors that are multi-factor by themselves: a passkey's answer is made only after the
#: authenticator verified its user (Accord requires the UV flag).
MULTI_FACTOR_ALONE = frozenset({Factor.PASSKEY})

#: Stronger levels rank higher.
_RANK = {AuthLevel.SINGLE_FACTOR: 0, AuthLevel.MULTI_FACTOR: 1}


def at_least(level: AuthLevel, required: AuthLevel) -> bool:
    return _RANK[level] >= _RANK[required]


def level_of(proven: set[Factor]) -> AuthLevel:
    """The level that factors proven together reach: MULTI_FACTOR with a factor that is
    multi-factor by itself, or with a first factor and a second one; SINGLE_FACTOR
    otherwise (a password and a provider token are two proofs of one kind)."""
    if proven & MULTI_FACTOR_ALONE:
        return AuthLevel.MULTI_FACTOR
    if proven & FIRST_FACTORS and proven & SECOND_FACTORS:
        return AuthLevel.MULTI_FACTOR
    return AuthLevel.SINGLE_FACTOR
