"""``accord dev`` gives a newcomer a demo: a published policy, a staff account whose
password it prints, and a sign-in provider that issues ID tokens, all over real HTTP against
the real command. None of it exists with ``ACCORD_ENV=prod``."""

from __future__ import annotations

import json
import re
import signal
import sqlite3
import time
from pathlib import Path

import httpx
import pytest

from accord.cli.demo import STAFF_FILE, STAFF_NAME
from accord.cli.dev_oidc import DISCOVERY_PATH, DevProvider
from accord.master_keys import new_keyset_json
from models.keys.sealed_fields import PREFIX
from tests.conftest import RECEIPT_KEY, make_settings
from tests.processes import accord, clean_env, free_port, stop, wait_ready

VIEWER = "{ viewer { accountName role requiresReconsent bindings { provider } } }"
LOGIN = """mutation($name: String!, $password: String!) {
  login(input: {accountName: $name, password: $password}) { token errors { code message } }
}"""
SIGN_IN = """mutation($idToken: String!) { signInWithProvider(input: {provider: "dev", idToken: $idToken})
  { token created account { accountName } errors { code field message } } }"""
BIND = """mutation($idToken: String!) { bindProvider(input: {provider: "dev", idToken: $idToken})
  { binding { provider } errors { code field message } } }"""
RECOVER = """mutation($idToken: String!) { recoverWithProvider(input: {provider: "dev", idToken: $idToken})
  { resetToken errors { code field message } } }"""
POLICY = "{ currentPolicy { version material summary purposes { code } } }"


class Dev:
    """A running ``accord dev`` and what it printed."""

    def __init__(self, folder: Path, env: dict[str, str]) -> None:
        self.port = free_port()
        self.log = folder / f"dev-{self.port}.log"
        self.process = accord("dev", "--port", str(self.port), cwd=folder, env=env, log=self.log)
        self.url = f"http://127.0.0.1:{self.port}"
        self.http = httpx.Client(base_url=self.url, timeout=30)

    def __enter__(self) -> Dev:
        wait_ready(self.port, self.process, self.log)
        return self

    def __exit__(self, *exc: object) -> None:
        self.http.close()
        self.process.send_signal(signal.SIGTERM)
        assert stop(self.process) == 0, self.log.read_text()

    def printed_password(self) -> str:
        found = re.search(rf"{re.escape(STAFF_NAME)} / (\S+)", self.log.read_text())
        assert found, self.log.read_text()
        return found.group(1)

    def gql(self, query: str, bearer: str | None = None, **variables) -> dict:
        headers = {"authorization": f"Bearer {bearer}"} if bearer else {}
        answer = self.http.post(
            "/graphql", json={"query": query, "variables": variables}, headers=headers
        )
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert "errors" not in body, body
        return body["data"]

    def id_token(self, **identity: str) -> str:
        answer = self.http.get("/dev/oidc/id-token", params=identity)
        assert answer.status_code == 200, answer.text
        return answer.json()["id_token"]


@pytest.mark.slow
def test_dev_comes_up_with_a_policy_a_staff_account_and_a_sign_in_provider(tmp_path):
    with Dev(tmp_path, clean_env()) as dev:
        printed = dev.log.read_text()
        assert "Try it" in printed and "/dev/oidc" in printed, printed
        password = dev.printed_password()

        # The sample policy is published, material, and names the purposes.
        policy = dev.gql(POLICY)["currentPolicy"]
        assert policy["version"] == "demo-1" and policy["material"], policy
        assert {p["code"] for p in policy["purposes"]} >= {"necessary", "analytics"}

        # The printed staff credentials sign in, as an ADMIN.
        login = dev.gql(LOGIN, name=STAFF_NAME, password=password)["login"]
        assert login["errors"] == [], login
        staff = login["token"]
        assert dev.gql(VIEWER, staff)["viewer"]["role"] == "ADMIN"

        # The printed look at the rows on disk shows the staff account's name sealed.
        [command] = [line for line in printed.splitlines() if "At rest" in line]
        data_file = command.split("sqlite3 ", 1)[1].split(" ", 1)[0]
        with sqlite3.connect(data_file) as database:
            names = [row[0] for row in database.execute("SELECT account_name FROM account")]
        assert names and all(name.startswith(PREFIX) for name in names), names
        assert STAFF_NAME not in " ".join(names)

        # The dev provider: discovery and keys, as a real provider publishes them.
        discovery = dev.http.get(f"/dev/oidc{DISCOVERY_PATH}").json()
        assert discovery["issuer"] == f"{dev.url}/dev/oidc"
        assert dev.http.get(discovery["jwks_uri"]).json()["keys"]

        # The page issues a token for a typed-in identity ...
        page = dev.http.get("/dev/oidc")
        assert page.status_code == 200 and "<form" in page.text
        form = dev.http.post("/dev/oidc/id-token", data={"sub": "", "email": "ada@example.com"})
        assert form.status_code == 200 and "signInWithProvider" in form.text
        from_page = re.search(r"<textarea readonly[^>]*>([^<]+)</textarea>", form.text).group(1)

        # ... that signs in: a new account, asked to accept the demo policy.
        signed_in = dev.gql(SIGN_IN, idToken=from_page)["signInWithProvider"]
        assert signed_in["errors"] == [] and signed_in["created"], signed_in
        viewer = dev.gql(VIEWER, signed_in["token"])["viewer"]
        assert viewer["requiresReconsent"] and viewer["bindings"] == [{"provider": "dev"}]
        again = dev.gql(SIGN_IN, idToken=dev.id_token(email="ada@example.com"))
        assert again["signInWithProvider"]["created"] is False  # the same identity

        # The staff account binds another identity, and recovers its password with it.
        bound = dev.gql(BIND, staff, idToken=dev.id_token(sub="demo-admin-at-dev"))
        assert bound["bindProvider"]["errors"] == [], bound
        recovered = dev.gql(RECOVER, idToken=dev.id_token(sub="demo-admin-at-dev"))
        assert recovered["recoverWithProvider"]["errors"] == [], recovered
        assert recovered["recoverWithProvider"]["resetToken"]

    kept = json.loads((tmp_path / "var" / STAFF_FILE).read_text())
    assert kept == {"account_name": STAFF_NAME, "password": password}

    # A second start prints the same password and publishes nothing new.
    with Dev(tmp_path, clean_env()) as dev:
        assert dev.printed_password() == password
        assert "demo-1 (in effect)" in dev.log.read_text()
        assert dev.gql(LOGIN, name=STAFF_NAME, password=password)["login"]["token"]

    # Deleting the file resets the password.
    (tmp_path / "var" / STAFF_FILE).unlink()
    with Dev(tmp_path, clean_env()) as dev:
        new_password = dev.printed_password()
        assert new_password != password
        assert dev.gql(LOGIN, name=STAFF_NAME, password=new_password)["login"]["token"]
        assert dev.gql(LOGIN, name=STAFF_NAME, password=password)["login"]["errors"]


@pytest.mark.slow
def test_dev_with_env_prod_has_no_demo(tmp_path):
    env = clean_env(
        ACCORD_ENV="prod",
        ACCORD_SECRET_KEY="prod-secret-" + "x" * 40,
        ACCORD_RECEIPT_SIGNING_KEY=RECEIPT_KEY,
        ACCORD_MASTER_KEY=new_keyset_json(),
    )
    with Dev(tmp_path, env) as dev:
        for path in ("/dev/oidc", f"/dev/oidc{DISCOVERY_PATH}", "/dev/oidc/id-token"):
            assert dev.http.get(path).status_code == 404, path
        assert dev.http.post("/graphql", json={"query": POLICY}).json() == {
            "data": {"currentPolicy": None}
        }
        assert "Try it" not in dev.log.read_text()
    assert not (tmp_path / "var" / STAFF_FILE).exists()


async def test_create_app_mounts_dev_routes_in_dev_only(
    data_dir, database_url, redis_url, tmp_path
):
    from api.app import create_app

    provider = DevProvider(tmp_path, "http://127.0.0.1:8000")
    for env, status in (("dev", 200), ("prod", 404)):
        settings = make_settings(data_dir, database_url, redis_url, env=env)
        application = create_app(settings, redis_url, own_orm=False, dev_routes=provider.routes())
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://accord.test") as http:
            for path in ("/dev/oidc", f"/dev/oidc{DISCOVERY_PATH}", "/dev/oidc/jwks.json"):
                assert (await http.get(path)).status_code == status, (env, path)
            assert (await http.get("/dev/oidc/id-token?sub=x")).status_code == status


def test_dev_provider_tokens_verify_against_its_own_keys(tmp_path):
    from joserfc import jwt
    from joserfc.jwk import KeySet

    provider = DevProvider(tmp_path, "http://127.0.0.1:8000")
    token, _ = provider.issue("", email="ada@example.com", nonce="n")
    decoded = jwt.decode(token, KeySet.import_key_set(provider.jwks()), algorithms=["ES256"])
    assert decoded.claims["sub"] == "ada@example.com" and decoded.claims["nonce"] == "n"
    assert decoded.claims["exp"] > time.time() and decoded.claims["aud"] == "accord-dev"
    # The key survives a restart: tokens issued before still verify after.
    assert DevProvider(tmp_path, "http://127.0.0.1:8000").jwks() == provider.jwks()
    with pytest.raises(ValueError):
        provider.issue("", email="")
