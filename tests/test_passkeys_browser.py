"""Passkeys in a real browser: headless Chromium (Debian's ``chromium`` and
``chromium-driver``) with its virtual authenticator (WebDriver's, which is the DevTools
protocol's ``WebAuthn.addVirtualAuthenticator``), driving a small page the test serves on
``http://localhost:<port>`` against a real ``accord dev``: register an account, add a
passkey, sign out, sign in with the passkey.

The page is plain JavaScript, what a web app does: the options Accord hands out go
through ``PublicKeyCredential.parseCreationOptionsFromJSON``/``parseRequestOptionsFromJSON``
into ``navigator.credentials``, and the credential goes back as
``JSON.stringify(credential.toJSON())``. ``localhost`` is a secure context over plain
HTTP, and the relying party id (``localhost`` in dev) is its host; ``127.0.0.1`` would not
do (browsers refuse an IP address as a relying party id).

Never downloads a browser: Selenium is given ``/usr/bin/chromedriver``, so its Selenium
Manager stays idle. Skipped only when Chromium is not installed (``.ci/run`` installs it).
"""

from __future__ import annotations

import json
import shutil
import signal
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.accounts_api import PASSWORD
from tests.processes import accord, clean_env, free_port, stop, wait_ready

#: Debian's packages; never one Selenium Manager would download.
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()),
        reason="Chromium is not installed here (apt-get install chromium chromium-driver; "
        ".ci/run installs it)",
    ),
]

PAGE = """<!doctype html>
<meta charset="utf-8">
<title>Accord passkeys</title>
<p id="status">loading</p>
<pre id="result"></pre>
<script>
const api = new URLSearchParams(location.search).get("api");
const say = (text) => { document.getElementById("status").textContent = text; };

async function gql(query, variables, token) {
  const headers = {"content-type": "application/json"};
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(api, {
    method: "POST", headers, body: JSON.stringify({query, variables}),
  });
  const body = await response.json();
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  const payload = Object.values(body.data)[0];
  if (payload && payload.errors && payload.errors.length) {
    throw new Error(JSON.stringify(payload.errors));
  }
  return payload;
}

async function run(accountName, password) {
  say("registering");
  const registered = await gql(
    `mutation($input: RegisterInput!) { register(input: $input) { token errors { code message } } }`,
    {input: {accountName, password, nickname: "Browser"}});
  let token = registered.token;

  say("adding a passkey");
  const creation = await gql(
    `mutation { beginPasskeyRegistration(input: {}) {
       challengeId options errors { code message } } }`, {}, token);
  const created = await navigator.credentials.create({
    publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(JSON.parse(creation.options)),
  });
  const added = await gql(
    `mutation($input: FinishPasskeyRegistrationInput!) {
       finishPasskeyRegistration(input: $input) { passkey { id name } errors { code message } } }`,
    {input: {challengeId: creation.challengeId,
             credential: JSON.stringify(created.toJSON()), name: "This browser"}},
    token);

  say("signing out");
  await gql(`mutation { logout { errors { code message } } }`, {}, token);
  token = null;

  say("signing in with the passkey");
  const request = await gql(
    `mutation { beginPasskeySignIn { challengeId options errors { code message } } }`, {});
  const asserted = await navigator.credentials.get({
    publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(JSON.parse(request.options)),
  });
  const signedIn = await gql(
    `mutation($input: FinishPasskeySignInInput!) {
       finishPasskeySignIn(input: $input) { token account { accountName } errors { code message } } }`,
    {input: {challengeId: request.challengeId,
             credential: JSON.stringify(asserted.toJSON())}});

  const response = await fetch(api, {
    method: "POST",
    headers: {"content-type": "application/json", authorization: `Bearer ${signedIn.token}`},
    body: JSON.stringify({query: "{ viewer { accountName passkeys { name lastUsedAt } } }"}),
  });
  const viewer = (await response.json()).data.viewer;
  return {added: added.passkey, viewer, credentialId: asserted.id};
}

window.runPasskeys = (accountName, password) => run(accountName, password).then(
  (result) => { say("done"); document.getElementById("result").textContent = JSON.stringify(result); },
  (error) => { say("failed"); document.getElementById("result").textContent = String(error); });
say("ready");
</script>
"""


class _Page(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = PAGE.encode()
        self.send_response(200)
        self.send_header("content-type", "text/html; charset=utf-8")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def page_server() -> Iterator[int]:
    """The test page on http://localhost:<port>/ (a web app's origin, not the API's)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.fixture
def accord_dev(tmp_path) -> Iterator[int]:
    port = free_port()
    log = tmp_path / "dev.log"
    env = clean_env(ACCORD_SMTP_PORT=str(free_port()))
    process = accord("dev", "--port", str(port), cwd=tmp_path, env=env, log=log)
    try:
        wait_ready(port, process, log)
        yield port
    finally:
        process.send_signal(signal.SIGTERM)
        stop(process)


@pytest.fixture
def browser() -> Iterator[object]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(argument)
    service = Service(CHROMEDRIVER)
    driver = webdriver.Chrome(service=service, options=options)
    try:
        yield driver
    finally:
        driver.quit()


def test_register_a_passkey_sign_out_and_sign_in_with_it(accord_dev, page_server, browser):
    from selenium.webdriver.common.virtual_authenticator import (
        Protocol,
        Transport,
        VirtualAuthenticatorOptions,
    )
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(f"http://localhost:{page_server}/?api=http://localhost:{accord_dev}/graphql")
    WebDriverWait(browser, 30).until(lambda d: d.find_element("id", "status").text == "ready")
    assert browser.execute_script("return window.isSecureContext") is True
    browser.add_virtual_authenticator(
        VirtualAuthenticatorOptions(
            protocol=Protocol.CTAP2,
            transport=Transport.INTERNAL,
            has_resident_key=True,
            has_user_verification=True,
            is_user_verified=True,
        )
    )
    browser.execute_script(
        "window.runPasskeys(arguments[0], arguments[1])", "webauthn.ada", PASSWORD
    )
    WebDriverWait(browser, 90).until(
        lambda d: d.find_element("id", "status").text in ("done", "failed")
    )
    result = browser.find_element("id", "result").text
    assert browser.find_element("id", "status").text == "done", result

    outcome = json.loads(result)
    assert outcome["added"]["name"] == "This browser"
    assert outcome["viewer"]["accountName"] == "webauthn.ada"
    [passkey] = outcome["viewer"]["passkeys"]
    assert passkey["name"] == "This browser" and passkey["lastUsedAt"] is not None
    # The browser's authenticator holds the passkey Accord knows, discoverable (resident).
    [credential] = browser.get_credentials()
    assert credential.is_resident_credential
    assert credential.id.rstrip("=") == outcome["credentialId"]  # Selenium pads base64url
