"""A deleted account's name stays unavailable for a while, so nobody can pose as its owner.

Only a keyed hash (HMAC with the secret key) of the name is kept: enough to refuse it at
registration, useless for finding out which names existed.
"""

from __future__ import annotations

import hashlib
import hmac

from tortoise import fields
from tortoise.expressions import Q
from tortoise.models import Model

from accord.settings import Settings
from models import clock
from models.batches import delete_in_batches


class AccountNameQuarantine(Model):
    name_hash = fields.CharField(max_length=64, primary_key=True)
    until = fields.DatetimeField(db_index=True)

    class Meta:
        table = "account_name_quarantine"


def name_hash(settings: Settings, account_name: str) -> str:
    return hmac.new(settings.secret(), account_name.encode(), hashlib.sha256).hexdigest()


async def name_in_quarantine(settings: Settings, account_name: str) -> bool:
    return await AccountNameQuarantine.filter(
        name_hash=name_hash(settings, account_name), until__gt=clock.now()
    ).exists()


async def purge_expired_quarantine(batch_size: int) -> int:
    return await delete_in_batches(AccountNameQuarantine, Q(until__lte=clock.now()), batch_size)
