"""The privacy center and the staff console in a real browser: headless Chromium (Debian's
``chromium`` and ``chromium-driver``) against a real ``accord dev`` (API, worker, embedded
Redis), as tests/test_passkeys_browser.py drives it.

A user signs in on /privacy, gives and withdraws a consent (GraphQL's ``viewer.consents``
then shows it withdrawn), accepts the policy, cancels the account and restores it; an
ordinary user is refused on /console; an operator signs in there and watches a campaign's
progress bar move, without reloading, while the worker fans out a material policy's notice
to a few hundred accounts, then retries a failed deletion and sees the worker complete it. Screenshots of every page go to ``artifacts/screenshots/``.

``http://localhost`` is a secure context, so Chromium keeps the pages' ``Secure`` cookies
there. Never downloads a browser; skipped only when Chromium is not installed.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.processes import accord, clean_env, free_port, stop, wait_ready

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
SCREENSHOTS = Path(__file__).resolve().parents[1] / "artifacts" / "screenshots"
PASSWORD = "violet-harbour-42-quietly"
STAFF_PASSWORD = "copper-lantern-17-swiftly"
#: Accounts the campaign tells, written one per fan-out batch: enough to watch it go.
AUDIENCE = 300

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()),
        reason="Chromium is not installed here (apt-get install chromium chromium-driver)",
    ),
]


@pytest.fixture
def accord_dev(tmp_path) -> Iterator[tuple[int, dict[str, str]]]:
    """A running ``accord dev`` whose fan-out writes one account per batch; its port and
    environment (for the CLI run beside it)."""
    port = free_port()
    log = tmp_path / "dev.log"
    env = clean_env(ACCORD_SMTP_PORT=str(free_port()), ACCORD_NOTIFICATION_BATCH_SIZE="1")
    process = accord("dev", "--port", str(port), cwd=tmp_path, env=env, log=log)
    try:
        wait_ready(port, process, log, timeout=240)  # migrating a new database first
        yield port, env
    finally:
        process.send_signal(signal.SIGTERM)
        stop(process)


@pytest.fixture
def browser(tmp_path) -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
        "--window-size=1280,900",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def create_staff(cwd: Path, env: dict[str, str], name: str, role: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "accord", "create-staff", "--account-name", name, "--role", role],
        cwd=cwd,
        env={**env, "ACCORD_STAFF_PASSWORD": STAFF_PASSWORD},
        check=True,
        capture_output=True,
    )


class Api:
    def __init__(self, port: int) -> None:
        self.http = httpx.Client(base_url=f"http://localhost:{port}", timeout=30)

    def __call__(self, query: str, variables: dict[str, Any] | None = None, token: str = "") -> Any:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        body = self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        ).json()
        assert "errors" not in body, body
        return body["data"]

    def register(self, name: str) -> str:
        data = self(
            "mutation($i: RegisterInput!) { register(input: $i) { token errors { code } } }",
            {"i": {"accountName": name, "password": PASSWORD, "nickname": name}},
        )
        assert data["register"]["errors"] == [], data
        return str(data["register"]["token"])

    def login(self, name: str, password: str) -> dict[str, Any]:
        data = self(
            "mutation($i: LoginInput!) { login(input: $i) { token errors { code } } }",
            {"i": {"accountName": name, "password": password}},
        )
        return dict(data["login"])


def shot(driver: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SCREENSHOTS / f"{name}.png"))


def sign_in(driver: Any, base: str, area: str, name: str, password: str) -> None:
    driver.get(f"{base}/{area}/sign-in")
    driver.find_element("id", "account_name").send_keys(name)
    driver.find_element("id", "password").send_keys(password)
    driver.find_element("css selector", "form.card button[type=submit]").click()


REGISTER_PASSKEY = """
const [token, done] = [arguments[0], arguments[arguments.length - 1]];
async function gql(query, variables) {
  const response = await fetch("/graphql", {
    method: "POST",
    headers: {"content-type": "application/json", authorization: "Bearer " + token},
    body: JSON.stringify({query, variables}),
  });
  return (await response.json()).data;
}
(async () => {
  const begun = (await gql(`mutation { beginPasskeyRegistration(input: {}) {
    challengeId options errors { code } } }`)).beginPasskeyRegistration;
  const created = await navigator.credentials.create({
    publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(JSON.parse(begun.options)),
  });
  const finished = (await gql(`mutation($input: FinishPasskeyRegistrationInput!) {
    finishPasskeyRegistration(input: $input) { passkey { id } errors { code message } } }`,
    {input: {challengeId: begun.challengeId, credential: JSON.stringify(created.toJSON()),
             name: "This browser"}})).finishPasskeyRegistration;
  done(JSON.stringify(finished));
})().catch((error) => done("failed: " + error));
"""


def add_passkey(driver: Any, token: str) -> None:
    """A passkey in the browser's virtual authenticator, registered for the token's account
    (from a page of this origin, the relying party)."""
    import json

    from selenium.webdriver.common.virtual_authenticator import (
        Protocol,
        Transport,
        VirtualAuthenticatorOptions,
    )

    driver.add_virtual_authenticator(
        VirtualAuthenticatorOptions(
            protocol=Protocol.CTAP2,
            transport=Transport.INTERNAL,
            has_resident_key=True,
            has_user_verification=True,
            is_user_verified=True,
        )
    )
    driver.set_script_timeout(60)
    answer = driver.execute_async_script(REGISTER_PASSKEY, token)
    assert json.loads(answer)["errors"] == [], answer


def fail_the_newest_deletion(database: Path) -> int:
    """As a worker that failed leaves a deletion past its grace period: FAILED, with its
    error, backing off for an hour (written behind the service's back, as the test cannot
    make storage fail inside ``accord dev``)."""
    import sqlite3

    with sqlite3.connect(database, timeout=30) as db:
        request_id, due = db.execute(
            "SELECT id, due_at FROM deletion_request ORDER BY id DESC LIMIT 1"
        ).fetchone()
        db.execute(
            "UPDATE deletion_request SET status = 'FAILED', attempts = 1, "
            "last_error = 'injected: storage unavailable', due_at = ?, next_attempt_at = ? "
            "WHERE id = ?",
            ("2020" + due[4:], "2099" + due[4:], request_id),
        )
    return int(request_id)


def click(driver: Any, selector: str) -> None:
    driver.find_element("css selector", selector).click()


def test_privacy_center_and_console_in_a_browser(accord_dev, browser, tmp_path):
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    port, env = accord_dev
    base = f"http://localhost:{port}"
    api = Api(port)
    token = api.register("web.ada")
    # A page that navigates between finding an element and reading it: look again.
    wait = WebDriverWait(browser, 30, ignored_exceptions=(StaleElementReferenceException,))

    # --- the privacy center --------------------------------------------------------------
    sign_in(browser, base, "privacy", "web.ada", PASSWORD)
    wait.until(lambda d: d.find_element("tag name", "h1").text == "Your consents")
    cookie = browser.get_cookie("accord_privacy")
    assert cookie["secure"] and cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    shot(browser, "privacy-consents")
    analytics = "li[data-purpose=analytics]"
    click(browser, f"{analytics} form button")  # give consent
    wait.until(lambda d: "Consent given." in d.page_source)
    click(browser, f"{analytics} form button")  # and withdraw it
    wait.until(lambda d: "Consent withdrawn." in d.page_source)
    state = browser.find_element("css selector", f"{analytics} [data-state]").text
    assert state == "Not given"
    consents = api(
        "{ viewer { consents { purpose { code } granted decidedAt source } } }", token=token
    )["viewer"]["consents"]
    [seen] = [c for c in consents if c["purpose"]["code"] == "analytics"]
    assert seen["granted"] is False and seen["decidedAt"] and seen["source"] == "WEB"
    click(browser, "form[action='/privacy/accept-policy'] button")
    wait.until(lambda d: "you accepted this version" in d.page_source)
    assert (
        api("{ viewer { requiresReconsent } }", token=token)["viewer"]["requiresReconsent"] is False
    )

    for page, heading in (
        ("history", "Consent history"),
        ("sessions", "Sessions and linked sign-ins"),
        ("data", "Your data"),
        ("account", "Your account"),
    ):
        browser.get(f"{base}/privacy/{page}")
        wait.until(lambda d, h=heading: d.find_element("tag name", "h1").text == h)
        shot(browser, f"privacy-{page}")
    browser.get(f"{base}/privacy/history")
    assert len(browser.find_elements("css selector", "a[download]")) == 3  # 2 decisions, 1 accept

    browser.set_window_size(390, 844)  # a phone
    browser.get(f"{base}/privacy")
    shot(browser, "privacy-consents-phone")
    browser.set_window_size(1280, 900)

    browser.get(f"{base}/privacy/account")
    browser.find_element("id", "cancel-password").send_keys(PASSWORD)
    click(browser, "#confirm")
    click(browser, "button.danger")
    wait.until(lambda d: d.find_element("tag name", "h1").text == "Your account is cancelled")
    assert browser.find_element("id", "receipt-secret").text
    shot(browser, "privacy-cancelled")
    assert api.login("web.ada", PASSWORD)["errors"] == [{"code": "ACCOUNT_INACTIVE"}]
    browser.get(f"{base}/privacy")  # signed out: every session ended
    wait.until(lambda d: d.current_url.endswith("/privacy/sign-in"))

    browser.get(f"{base}/privacy/restore")
    browser.find_element("id", "account_name").send_keys("web.ada")
    browser.find_element("id", "password").send_keys(PASSWORD)
    click(browser, "form.card button")
    wait.until(lambda d: "Your account is restored" in d.page_source)
    restored = api.login("web.ada", PASSWORD)["token"]
    assert restored

    # A passkey, registered through GraphQL from this browser (its virtual authenticator),
    # signs her in on the page: no account name, no password.
    add_passkey(browser, restored)
    browser.delete_all_cookies()
    browser.get(f"{base}/privacy/sign-in")
    wait.until(lambda d: d.find_element("id", "passkey-button").is_displayed())
    shot(browser, "privacy-sign-in")
    click(browser, "#passkey-button")
    wait.until(lambda d: d.find_element("tag name", "h1").text == "Your consents")
    assert browser.get_cookie("accord_privacy")

    # --- the console ----------------------------------------------------------------------
    browser.delete_all_cookies()
    sign_in(browser, base, "console", "web.ada", PASSWORD)
    wait.until(lambda d: d.find_element("tag name", "h1").text == "Not for your role")
    assert browser.get_cookie("accord_console") is None
    shot(browser, "console-refused")

    create_staff(tmp_path, env, "the.operator", "OPERATOR")
    create_staff(tmp_path, env, "the.officer", "PRIVACY_OFFICER")
    for n in range(AUDIENCE):
        api.register(f"reader.{n:04d}")
    sign_in(browser, base, "console", "the.operator", STAFF_PASSWORD)
    wait.until(lambda d: d.find_element("tag name", "h1").text == "Overview")
    shot(browser, "console-overview")

    officer = api.login("the.officer", STAFF_PASSWORD)["token"]
    published = api(
        """mutation { publishPolicy(input: {version: "2.0", summary: "We now share less.",
        text: "The new policy.", effectiveAt: "2020-01-01T00:00:00Z", material: true,
        changeCategories: [SHARING_RECIPIENTS]}) { errors { code } } }""",
        token=officer,
    )
    assert published["publishPolicy"]["errors"] == []
    browser.get(f"{base}/console/campaigns")
    bar = browser.find_element("css selector", "[data-campaign] progress")  # the newest
    seen: list[tuple[str, str]] = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        value, maximum = bar.get_attribute("value"), bar.get_attribute("max")
        if not seen or seen[-1] != (value, maximum):
            seen.append((value, maximum))
            if len(seen) == 2:
                shot(browser, "console-campaigns-moving")
        if float(value) >= float(maximum) > AUDIENCE:
            break
        time.sleep(0.2)
    assert len(seen) >= 2, seen  # it moved, and the page was never reloaded
    assert float(seen[-1][0]) >= float(seen[-1][1]) > AUDIENCE, seen
    shot(browser, "console-campaigns")

    # A deletion that failed and backs off: the operator retries it and sees it complete.
    doomed = api.register("doomed.ada")
    cancelled = api(
        """mutation($p: String!) { cancelAccount(input: {password: $p}) { errors { code } } }""",
        {"p": PASSWORD},
        token=doomed,
    )
    assert cancelled["cancelAccount"]["errors"] == []
    request_id = fail_the_newest_deletion(tmp_path / "var" / "accord.sqlite3")
    browser.get(f"{base}/console/deletions")
    wait.until(lambda d: d.find_element("tag name", "h1").text == "Deletions")
    assert "injected: storage unavailable" in browser.page_source
    retry = f"form[action='/console/deletions/{request_id}/retry']"
    browser.find_element("css selector", f"{retry} input[name=reason]").send_keys("storage is back")
    shot(browser, "console-deletions")
    click(browser, f"{retry} button")
    wait.until(lambda d: "Done: the action is recorded" in d.page_source)
    deadline = time.monotonic() + 120
    while f"/console/deletions/{request_id}/" in browser.page_source:
        assert time.monotonic() < deadline, "the retried deletion did not complete"
        time.sleep(1)
        browser.get(f"{base}/console/deletions")
    assert api.login("doomed.ada", PASSWORD)["errors"]  # the account is gone
    shot(browser, "console-deletions-after-retry")
    browser.delete_all_cookies()
    sign_in(browser, base, "console", "the.officer", STAFF_PASSWORD)
    for page, heading in (("data-requests", "Data requests"), ("incidents", "Security incidents")):
        browser.get(f"{base}/console/{page}")
        wait.until(lambda d, h=heading: d.find_element("tag name", "h1").text == h)
        shot(browser, f"console-{page}")
    assert os.listdir(SCREENSHOTS)
