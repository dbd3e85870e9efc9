"""A bad setting stops start-up with one line that names the variable."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from accord.settings import SettingsError, load_settings, settings_table


def _accord(*args: str, env: dict[str, str], cwd) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ACCORD_")}
    clean.pop("DATABASE_URL", None)
    clean.pop("REDIS_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "accord", *args],
        env={**clean, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"ACCORD_MAX_TOKENS": "lots"}, "ACCORD_MAX_TOKENS"),
        ({"DATABASE_URL": "mysql://db/accord"}, "DATABASE_URL"),
        ({"REDIS_URL": "http://cache"}, "REDIS_URL"),
        ({"ACCORD_ENV": "prod"}, "ACCORD_SECRET_KEY"),
        ({"ACCORD_ENV": "staging"}, "ACCORD_ENV"),
        ({"ACCORD_OIDC_PROVIDERS": '{"acme": {"issuer": "x"}}'}, "ACCORD_OIDC_PROVIDERS"),
        ({"ACCORD_LOGIN_LIMIT_PER_ACCOUNT": "lots"}, "ACCORD_LOGIN_LIMIT_PER_ACCOUNT"),
        ({"ACCORD_SWEEP_INTERVAL_SECONDS": "7"}, "ACCORD_SWEEP_INTERVAL_SECONDS"),
    ],
)
def test_bad_setting_fails_with_one_line_naming_it(env, variable, tmp_path):
    result = _accord("migrate", env=env, cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert variable in lines[0]


def test_short_secret_key_is_refused():
    with pytest.raises(SettingsError, match="ACCORD_SECRET_KEY"):
        load_settings(secret_key="short")


def test_dev_secret_is_kept_in_the_data_folder(tmp_path):
    settings = load_settings(data_dir=tmp_path)
    first = settings.secret()
    assert len(first) >= 32 and settings.secret() == first
    assert (tmp_path / "secret.key").stat().st_mode & 0o077 == 0


def test_readme_lists_every_setting():
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    assert settings_table() in readme, "README settings table is stale: paste `accord settings`"


def test_the_key_store_is_a_file_apart_by_default(tmp_path):
    settings = load_settings(data_dir=tmp_path, database_url=None, key_store_url=None)
    assert settings.effective_key_store_url == f"sqlite:///{(tmp_path / 'keys.sqlite3').resolve()}"
    assert settings.key_store_is_separate


def test_prod_on_postgresql_refuses_a_key_store_shared_with_the_data(tmp_path):
    prod = {
        "env": "prod",
        "data_dir": tmp_path,
        "database_url": "postgres://db/accord",
        "secret_key": "s" * 40,
        "master_key": "{}",
    }
    with pytest.raises(SettingsError, match="ACCORD_KEY_STORE_URL"):
        load_settings(**prod)
    dev = load_settings(**{**prod, "env": "dev"})
    assert dev.effective_key_store_url == "postgres://db/accord"  # dev: shared, warned
    with pytest.raises(SettingsError, match="ACCORD_KEY_STORE_URL"):
        load_settings(key_store_url="mysql://db/keys")
