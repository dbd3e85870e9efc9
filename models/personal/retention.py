"""Retention: what expires is deleted, in batches, by the periodic sweep.

Each rule is a plain function that is safe to run twice or concurrently: it deletes only rows
already past their expiry, so a second run finds nothing left to do.
"""

from __future__ import annotations

from tortoise.expressions import Q

from accord.settings import Settings
from models import clock
from models.accounts.bindings import PasswordReset
from models.accounts.passkeys import purge_spent_challenges
from models.accounts.quarantine import purge_expired_quarantine
from models.accounts.sessions import purge_expired
from models.accounts.sign_in_challenges import purge_spent
from models.accounts.sign_ins import purge_expired_notices
from models.batches import delete_in_batches
from models.personal.activity import purge_older_than
from models.rights import identity


async def purge_spent_resets(batch_size: int) -> int:
    return await delete_in_batches(PasswordReset, Q(expires_at__lte=clock.now()), batch_size)


async def clean_up(settings: Settings) -> dict[str, int]:
    """Every retention rule once; returns how many rows each removed."""
    return {
        "sessions": await purge_expired(settings, settings.sweep_batch_size),
        "password_resets": await purge_spent_resets(settings.sweep_batch_size),
        "sign_in_challenges": await purge_spent(settings.sweep_batch_size),
        "activity": await purge_older_than(
            settings.activity_retention_days, settings.sweep_batch_size
        ),
        "name_quarantine": await purge_expired_quarantine(settings.sweep_batch_size),
        "webauthn_challenges": await purge_spent_challenges(settings.sweep_batch_size),
        "sign_in_notices": await purge_expired_notices(settings.sweep_batch_size),
        "identity_checks": await identity.purge_spent(settings.sweep_batch_size),
    }
