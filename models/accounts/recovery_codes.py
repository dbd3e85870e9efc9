"""Recovery codes: ten single-use codes that stand in for a lost second factor.

They are made when a second factor is confirmed (and again on request), shown to the user
once, and stored only as keyed hashes: HMAC-SHA256 under the deployment's secret key, bound
to the account. Not argon2, because a slow hash buys nothing here and costs a lot:

- a slow hash protects a *low-entropy* secret (a password a person chose) from offline
  guessing; these are 50 random bits each from ``secrets``, which no fast hash makes
  guessable (2^50 tries per code), and the key is not in the database, so a copy of the
  table alone gives nothing to test guesses against;
- a salted slow hash cannot be looked up: checking a code would mean one argon2 (~20 ms of
  CPU) per stored code, ten per attempt, an easy way to make the server burn CPU; a keyed
  hash is looked up by its value in an index, and the single use is one conditional UPDATE.

Rotating ``ACCORD_SECRET_KEY`` invalidates every recovery code (users regenerate them).
"""

from __future__ import annotations

import base64
import re
import secrets

from tortoise import fields
from tortoise.models import Model
from tortoise.transactions import in_transaction

from accord.settings import Settings
from models import clock
from models.accounts.account import Account
from models.keyed_hashes import keyed_hash
from models.keys.sealed_fields import SealedManager

COUNT = 10
#: Base32 characters per code: 5 bits each, 50 bits in all.
LENGTH = 10
GROUP = 5
SHAPE = re.compile(rf"[a-z2-7]{{{LENGTH}}}")


class RecoveryCode(Model):
    id = fields.BigIntField(primary_key=True)
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="recovery_codes", on_delete=fields.CASCADE
    )
    account_id: int  # set by the ORM
    #: HMAC-SHA256 (hex) of the code under the secret key (see the module).
    code_hash = fields.CharField(max_length=64)
    created_at = fields.DatetimeField(auto_now_add=True)
    used_at = fields.DatetimeField(null=True)

    class Meta:
        manager = SealedManager()
        table = "recovery_code"
        unique_together = (("account", "code_hash"),)


def _new_code() -> str:
    raw = base64.b32encode(secrets.token_bytes(7)).decode().lower()[:LENGTH]
    return "-".join(raw[i : i + GROUP] for i in range(0, LENGTH, GROUP))


def _normalized(code: str) -> str:
    return code.replace("-", "").replace(" ", "").strip().lower()


def _hash(settings: Settings, account_id: int, normalized: str) -> str:
    return keyed_hash(settings, "recovery code", account_id, normalized)


async def issue(account_id: int, settings: Settings) -> list[str]:
    """Ten new codes, replacing any earlier ones; the only time they are seen in clear."""
    codes = [_new_code() for _ in range(COUNT)]
    async with in_transaction("default"):
        await RecoveryCode.filter(account_id=account_id).delete()
        await RecoveryCode.bulk_create(
            [
                RecoveryCode(account_id=account_id, code_hash=_hash(settings, account_id, c))
                for c in (_normalized(code) for code in codes)
            ]
        )
    return codes


async def use(account_id: int, code: str, settings: Settings) -> bool:
    """Spend one code: true once for each code issued, false for anything else."""
    normalized = _normalized(code)
    if not SHAPE.fullmatch(normalized):
        return False
    spent = await RecoveryCode.filter(
        account_id=account_id,
        code_hash=_hash(settings, account_id, normalized),
        used_at__isnull=True,
    ).update(used_at=clock.now())
    return spent == 1


async def codes_left(account_id: int) -> int:
    return await RecoveryCode.filter(account_id=account_id, used_at__isnull=True).count()


async def remove_all(account_id: int) -> None:
    await RecoveryCode.filter(account_id=account_id).delete()
