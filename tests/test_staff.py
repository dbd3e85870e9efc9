"""Staff accounts: `accord create-staff` makes one that signs in with its role."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from models.accounts.account import Account, Role, account_name_index
from tests.accounts_api import codes, login, register, viewer

STAFF_PASSWORD = "saffron-canyon-64-warmly"
ACCORD = Path(sys.executable).with_name("accord")


def run_cli(settings, *args: str, password: str = STAFF_PASSWORD) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "ACCORD_STAFF_PASSWORD": password,
        "ACCORD_DATABASE_URL": settings.effective_database_url,
        "ACCORD_KEY_STORE_URL": settings.effective_key_store_url,
        "ACCORD_DATA_DIR": str(settings.data_dir),
        "ACCORD_SECRET_KEY": settings.secret_key.get_secret_value(),
    }
    return subprocess.run(
        [str(ACCORD), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def make_staff(app, settings, name: str, role: str, password: str = STAFF_PASSWORD):
    """The CLI, run as an operator would, against the test database (either backend)."""
    return run_cli(
        settings, "create-staff", "--account-name", name, "--role", role, password=password
    )


async def test_create_staff_makes_an_admin_who_signs_in(gql, app, settings):
    result = await make_staff(app, settings, "ops.admin", "ADMIN")
    if result is not None:
        assert result.returncode == 0, result.stderr
        assert "ops.admin" in result.stdout
    account = await Account.get(account_name_index=await account_name_index("ops.admin"))
    assert account.role == Role.ADMIN
    assert account.password_hash and STAFF_PASSWORD not in account.password_hash
    payload = await login(gql, "ops.admin", STAFF_PASSWORD)
    assert payload["errors"] == []
    assert payload["account"]["role"] == "ADMIN"
    assert (await viewer(gql, payload["token"]))["role"] == "ADMIN"


async def test_create_staff_gives_an_existing_account_a_role(gql, app, settings):
    await register(gql, "helpdesk.jo")
    result = await make_staff(app, settings, "HelpDesk.Jo", "support", password="ignored")
    if result is not None:
        assert result.returncode == 0, result.stderr
    account = await Account.get(account_name_index=await account_name_index("helpdesk.jo"))
    assert account.role == Role.SUPPORT
    assert (await login(gql, "helpdesk.jo"))["account"]["role"] == "SUPPORT"


async def test_create_staff_refuses_bad_input(app, settings):
    if not settings.is_sqlite:  # pragma: no cover - the refusals are the CLI's
        return
    weak = run_cli(
        settings,
        "create-staff",
        "--account-name",
        "ops.weak",
        "--role",
        "ADMIN",
        password="password1234",
    )
    assert weak.returncode == 2
    user = run_cli(settings, "create-staff", "--account-name", "ops.user", "--role", "USER")
    assert user.returncode == 2
    unknown = run_cli(settings, "create-staff", "--account-name", "ops.x", "--role", "ROOT")
    assert unknown.returncode == 2
    for refused in ("ops.weak", "ops.user", "ops.x"):
        assert not await Account.exists(account_name_index=await account_name_index(refused))


async def test_users_are_not_staff_and_registration_cannot_choose_a_role(gql):
    body = await gql(
        'mutation { register(input: {accountName: "eve", password: "x", nickname: "E", '
        "role: ADMIN}) { errors { code } } }",
        expect_errors=True,
    )
    assert "errors" in body  # there is no such input field
    me = await register(gql, "eve")
    assert me["account"]["role"] == "USER"
    assert codes(await login(gql, "eve")) == []
