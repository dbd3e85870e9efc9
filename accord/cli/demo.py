"""What ``accord dev`` adds so a newcomer can try every operation from GraphiQL at once.

On start-up in dev (never with ``ACCORD_ENV=prod``):

- a sample privacy policy, published if the database has none: version ``demo-1``,
  material (so a new account is asked to accept it: ``requiresReconsent``), naming the
  default purposes;
- a staff account ``demo.admin`` (ADMIN) with a random password, kept in
  ``<data_dir>/demo-staff.json`` so every start prints the same one; delete that file and
  start again to get a new password;
- the dev sign-in provider (``accord.cli.dev_oidc``), trusted as ``dev``;

and the "try this" text the command prints.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from dataclasses import dataclass
from pathlib import Path

from tortoise.context import TortoiseContext

from accord.cli.dev_oidc import PROVIDER, DevProvider, base_url
from accord.database import tortoise_config
from accord.settings import Settings
from models import clock
from models.accounts.account import Account, Role, account_name_index
from models.accounts.authentication import set_password
from models.accounts.passwords import Passwords
from models.accounts.staff import grant_role
from models.consent.policies import ChangeCategory, PolicyVersion, current_policy, publish_policy
from models.consent.purposes import DEFAULT_PURPOSES

STAFF_NAME = "demo.admin"
STAFF_FILE = "demo-staff.json"
POLICY_VERSION = "demo-1"

POLICY_SUMMARY = (
    "Demo policy: what this sample app keeps about you, why, for how long, and your rights."
)

POLICY_TEXT = """\
# Privacy policy of the Accord demo app (version demo-1)

This policy was written for trying Accord out; it describes no real service.

## Who we are
The Accord demo, contact: privacy@example.com.

## What we use your data for
- **Running the service** (`necessary`, always on, contract): your account name, password
  hash, sessions and the features you use.
- **Personalization** (`personalization`, consent): recommendations from your favorites.
- **Analytics** (`analytics`, consent): aggregated usage statistics.
- **Advertising** (`advertising`, consent): ads chosen for you, shared with ad partners.
- **Activity log** (`activity_log`, consent): the searches you type and links you click,
  kept 180 days.

You can give or withdraw each consent at any time; a withdrawal does not affect what was
done before it.

## Signing in with another provider
When you sign in with a provider we keep only its subject identifier, your public nickname
and picture, never your e-mail address, birthdate or other claims.

## Your rights
You can see and export your data, correct it, and cancel your account: it is deleted after
15 days, during which you can restore it.
"""


@dataclass
class Demo:
    """What ``accord dev`` set up, for the text it prints."""

    staff_name: str
    staff_password: str
    #: "created", "kept", "reset" (the file was deleted) or "changed" (the account's
    #: password is no longer the one in the file).
    staff_state: str
    policy_version: str | None
    policy_published: bool
    provider: DevProvider
    staff_file: Path
    graphql_url: str
    #: How to look at the rows on disk (SQLite): sealed, and the keys in another file.
    at_rest: str | None = None


def prepare(settings: Settings, host: str, port: int) -> tuple[Settings, Demo | None]:
    """In dev: seed the database, and return settings that trust the dev sign-in provider
    and whose e-mail links lead to this server.
    With ``ACCORD_ENV=prod``: nothing at all."""
    if settings.is_prod:
        return settings, None
    base = base_url(host, port)
    provider = DevProvider(settings.data_dir, base)
    trusting = settings.model_copy(
        update={
            "oidc_providers": {**settings.oidc_providers, PROVIDER: provider.provider_config()},
            # Links in e-mails (a sign-in notice's "this wasn't me") lead here.
            "public_url": settings.public_url or base,
        }
    )
    staff_file = settings.data_dir / STAFF_FILE
    kept = json.loads(staff_file.read_text())["password"] if staff_file.exists() else None
    password = kept or secrets.token_urlsafe(15)
    state, policy, published = asyncio.run(_seed(settings, password, kept is not None))
    if kept is None:
        staff_file.write_text(json.dumps({"account_name": STAFF_NAME, "password": password}))
        staff_file.chmod(0o600)
    demo = Demo(
        staff_name=STAFF_NAME,
        staff_password=password,
        staff_state=state,
        policy_version=policy,
        policy_published=published,
        provider=provider,
        staff_file=staff_file,
        graphql_url=f"{base}/graphql",
        at_rest=_at_rest(settings),
    )
    return trusting, demo


def _at_rest(settings: Settings) -> str | None:
    if not (settings.is_sqlite and settings.key_store_is_sqlite):
        return None
    data = settings.effective_database_url.removeprefix("sqlite:///")
    keys = settings.effective_key_store_url.removeprefix("sqlite:///")
    return (  # a command for the reader to run, not a query run here
        f"sqlite3 {data} 'select account_name, email from account'\n"  # noqa: S608
        f"                   shows ciphertext (ak1.<key>.<AES-GCM>); the keys are in {keys}"
    )


async def _seed(settings: Settings, password: str, kept: bool) -> tuple[str, str | None, bool]:
    """The staff account's state, the policy in effect, and whether it was published now."""
    passwords = Passwords(settings)
    try:
        async with TortoiseContext() as orm:
            await orm.init(config=tortoise_config(settings))
            state = await _staff(passwords, password, kept)
            policy = await current_policy()
            if await PolicyVersion.exists():
                return state, policy.version if policy else None, False
            await publish_policy(
                version=POLICY_VERSION,
                summary=POLICY_SUMMARY,
                text=POLICY_TEXT,
                effective_at=clock.now(),
                material=True,
                change_categories=[ChangeCategory.SERVICE_MODE, ChangeCategory.USER_RIGHTS],
                purpose_codes=[p["code"] for p in DEFAULT_PURPOSES],
                published_by=await Account.get_or_none(
                    account_name_index=await account_name_index(STAFF_NAME)
                ),
                shards=settings.fanout_shards,
            )
            return state, POLICY_VERSION, True
    finally:
        passwords.close()


async def _staff(passwords: Passwords, password: str, kept: bool) -> str:
    """Make sure the demo ADMIN exists with ``password`` (the kept one, or a new one when
    the file was deleted); "created", "reset", "kept" or "changed"."""
    account = await Account.get_or_none(account_name_index=await account_name_index(STAFF_NAME))
    if account is None:
        await grant_role(passwords, STAFF_NAME, Role.ADMIN, password, "Demo admin")
        return "created"
    if not kept:
        await set_password(passwords, account, password)
        account.role = Role.ADMIN
        await account.save(update_fields=["role", "updated_at"])
        return "reset"
    return "kept" if await passwords.verify(account.password_hash, password) else "changed"


def try_this(demo: Demo) -> str:
    """The block ``accord dev`` prints: where to click and what to paste."""
    p = demo.provider
    if demo.staff_state == "changed":
        password = f"(changed since; delete {demo.staff_file} and restart for a new one)"
    else:
        password = demo.staff_password
    policy = (
        f"{demo.policy_version} ({'published now' if demo.policy_published else 'in effect'})"
        if demo.policy_version
        else "none in effect yet (publishPolicy, as the staff account)"
    )
    return f"""
Try it (dev only: none of this exists with ACCORD_ENV=prod)
  GraphiQL         {demo.graphql_url}
  Privacy policy   {policy}: query {{ currentPolicy {{ version summary }} purposes {{ code }} }}
  Staff account    {demo.staff_name} / {password}   (ADMIN; kept in {demo.staff_file})
                   mutation {{ login(input: {{accountName: "{demo.staff_name}", password: "..."}})
                     {{ token errors {{ code message }} }} }}
                   then GraphiQL's Headers tab: {{"Authorization": "Bearer <token>"}}
  Sign-in provider "{PROVIDER}": {p.page_url}  (issues an ID token for any identity you type)
                   curl '{p.token_url}?sub=ada&email=ada@example.com'
                   mutation {{ signInWithProvider(input: {{provider: "{PROVIDER}", idToken: "..."}})
                     {{ token created errors {{ code message }} }} }}
                   bindProvider and recoverWithProvider take the same provider and idToken.
{f"  At rest          {demo.at_rest}" if demo.at_rest else ""}
"""
