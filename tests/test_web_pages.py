"""The web pages' guards, over HTTP against the app (no browser): the session cookie's
flags, CSRF on every POST, staff-only pages, signing out, framing and turning pages off.
The browser walks through them in tests/test_web_browser.py."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.consent_helpers import PASSWORD, consents, published, register

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@pytest.fixture
async def browser_like(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A client over https (the cookies are Secure), keeping cookies as a browser does."""
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="https://accord.test") as http:
        yield http


def csrf_of(page: httpx.Response) -> str:
    found = CSRF.search(page.text)
    assert found, page.text
    return found.group(1)


async def sign_in(
    http: httpx.AsyncClient, name: str, area: str = "privacy", password: str = PASSWORD
) -> httpx.Response:
    form = await http.get(f"/{area}/sign-in")
    return await http.post(
        f"/{area}/sign-in",
        data={"csrf": csrf_of(form), "account_name": name, "password": password},
    )


async def test_the_session_cookie_is_secure_http_only_strict_and_path_scoped(gql, browser_like):
    await register(gql, "cookie.ada")
    answer = await sign_in(browser_like, "cookie.ada")
    assert answer.status_code == 303 and answer.headers["location"] == "/privacy"
    [cookie] = [c for c in answer.headers.get_list("set-cookie") if c.startswith("accord_privacy=")]
    flags = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"secure", "httponly", "samesite=strict", "path=/privacy"} <= flags
    # The same session GraphQL opens: its token reads the viewer there too.
    token = browser_like.cookies.get("accord_privacy")
    body = await gql("{ viewer { accountName } }", token=token)
    assert body["data"]["viewer"]["accountName"] == "cookie.ada"
    page = await browser_like.get("/privacy")
    assert page.status_code == 200 and "Your consents" in page.text


async def test_a_post_without_the_right_csrf_token_is_refused_and_changes_nothing(
    gql, browser_like, app
):
    officer = await register(gql, "csrf.officer", role=None)
    from models.accounts.account import Account, Role, account_name_index

    await Account.filter(account_name_index=await account_name_index("csrf.officer")).update(
        role=Role.PRIVACY_OFFICER
    )
    await published(gql, officer.token, "v1", purposes=["analytics"])
    user = await register(gql, "csrf.ada")
    await sign_in(browser_like, "csrf.ada")
    page = await browser_like.get("/privacy")
    right = csrf_of(page)
    # Another session's token is no good here either.
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="https://accord.test"
    ) as other:
        await sign_in(other, "csrf.officer")
        theirs = csrf_of(await other.get("/privacy"))
    for sent in ({}, {"csrf": "forged"}, {"csrf": theirs}):
        refused = await browser_like.post(
            "/privacy/consents", data={"purpose": "analytics", "granted": "yes", **sent}
        )
        assert refused.status_code == 403 and "Form expired" in refused.text
        assert (await consents(gql, user.token))["analytics"]["granted"] is False
    done = await browser_like.post(
        "/privacy/consents", data={"purpose": "analytics", "granted": "yes", "csrf": right}
    )
    assert done.status_code == 303
    assert (await consents(gql, user.token))["analytics"]["granted"] is True


async def test_the_sign_in_form_needs_its_token_too(gql, browser_like):
    await register(gql, "login.csrf")
    refused = await browser_like.post(
        "/privacy/sign-in", data={"account_name": "login.csrf", "password": PASSWORD}
    )
    assert refused.status_code == 403
    assert "accord_privacy" not in browser_like.cookies


async def test_a_wrong_password_is_refused_on_the_page(gql, browser_like):
    await register(gql, "wrong.pw")
    answer = await sign_in(browser_like, "wrong.pw", password="not-the-password-at-all")
    assert answer.status_code == 400
    assert "account name or password is wrong" in answer.text
    assert "accord_privacy" not in browser_like.cookies


async def test_the_console_is_for_staff_and_each_page_for_its_roles(gql, browser_like, app):
    assert (await browser_like.get("/console")).headers["location"] == "/console/sign-in"
    await register(gql, "plain.user")
    refused = await sign_in(browser_like, "plain.user", "console")
    assert refused.status_code == 403 and "Not for your role" in refused.text
    assert "accord_console" not in browser_like.cookies
    from models.accounts.account import Role

    await register(gql, "console.operator", role=Role.OPERATOR)
    assert (await sign_in(browser_like, "console.operator", "console")).status_code == 303
    overview = await browser_like.get("/console")
    assert overview.status_code == 200 and "Job queue" in overview.text
    assert (await browser_like.get("/console/deletions")).status_code == 200
    live = await browser_like.get("/console/live")
    assert live.json()["overview"]["queued"] >= 0
    # Data requests and incidents are the privacy office's, as in GraphQL.
    assert (await browser_like.get("/console/data-requests")).status_code == 403
    assert (await browser_like.get("/console/incidents")).status_code == 403
    assert "Data requests" not in overview.text


async def test_signing_out_ends_the_session(gql, browser_like):
    await register(gql, "leaving.ada")
    await sign_in(browser_like, "leaving.ada")
    token = browser_like.cookies.get("accord_privacy")
    page = await browser_like.get("/privacy")
    out = await browser_like.post("/privacy/sign-out", data={"csrf": csrf_of(page)})
    assert out.status_code == 303 and out.headers["location"] == "/privacy/sign-in?done=signed-out"
    assert "accord_privacy" not in browser_like.cookies
    assert (await gql("{ viewer { accountName } }", token=token))["data"]["viewer"] is None
    browser_like.cookies.set("accord_privacy", token or "", domain="accord.test", path="/privacy")
    assert (await browser_like.get("/privacy")).headers["location"] == "/privacy/sign-in"


async def test_frames_csp_and_turning_pages_off(browser_like, app_with):
    privacy = await browser_like.get("/privacy/sign-in")
    console = await browser_like.get("/console/sign-in")
    for page in (privacy, console):
        policy = page.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in policy and "script-src 'self'" in policy
        assert "unsafe-inline" not in policy
        assert page.headers["x-frame-options"] == "DENY"
    async with app_with(privacy_center_frame_ancestors=["https://app.example.com"]) as http:
        embedded = await http.get("/privacy/sign-in")
        assert "frame-ancestors https://app.example.com;" in (
            embedded.headers["content-security-policy"] + ";"
        )
        assert "x-frame-options" not in embedded.headers
        console = await http.get("/console/sign-in")
        assert "frame-ancestors 'none'" in console.headers["content-security-policy"]
    async with app_with(console_enabled=False, privacy_center_enabled=False) as http:
        assert (await http.get("/console/sign-in")).status_code == 404
        assert (await http.get("/privacy")).status_code == 404
    async with app_with(console_networks=["10.0.0.0/8"]) as http:
        assert (await http.get("/console/sign-in")).status_code == 403
        assert (await http.get("/privacy/sign-in")).status_code == 200


async def test_an_operator_retries_and_postpones_a_deletion_from_the_console(gql, browser_like):
    """The console's actions are the GraphQL mutations' functions: CSRF-checked, refused
    with the typed error's message, audited."""
    from datetime import UTC, datetime, timedelta

    from models.accounts.account import Role
    from models.rights.audit import StaffAction, StaffAuditEntry
    from models.rights.requests import DeletionRequest, DeletionStatus
    from tests.ids import pk

    user = await register(gql, "failing.ada")
    now = datetime.now(UTC)
    request = await DeletionRequest.create(
        account_id=pk(user.id),
        status=DeletionStatus.FAILED,
        requested_at=now - timedelta(days=31),
        due_at=now - timedelta(days=1),
        next_attempt_at=now + timedelta(hours=1),  # backing off
        attempts=2,
        last_error="files: storage unavailable",
    )
    await register(gql, "console.retrier", role=Role.OPERATOR)
    await sign_in(browser_like, "console.retrier", "console")
    page = await browser_like.get("/console/deletions")
    assert f"/console/deletions/{request.id}/retry" in page.text
    assert "storage unavailable" in page.text
    token = csrf_of(page)

    forged = await browser_like.post(
        f"/console/deletions/{request.id}/retry", data={"csrf": "forged", "reason": "x"}
    )
    assert forged.status_code == 403
    assert (await DeletionRequest.get(id=request.id)).status == DeletionStatus.FAILED

    retried = await browser_like.post(
        f"/console/deletions/{request.id}/retry",
        data={"csrf": token, "reason": "storage is back"},
    )
    assert retried.status_code == 303
    row = await DeletionRequest.get(id=request.id)
    assert row.status == DeletionStatus.PENDING and row.next_attempt_at <= datetime.now(UTC)
    assert row.attempts == 2

    # Postponing without a date is refused on the page, nothing changed; with one, done.
    refused = await browser_like.post(
        f"/console/deletions/{request.id}/postpone",
        data={"csrf": token, "reason": "legal hold", "until": "tomorrow"},
    )
    assert refused.status_code == 400 and "give a date and time" in refused.text
    until = (now + timedelta(days=2)).replace(second=0, microsecond=0)
    postponed = await browser_like.post(
        f"/console/deletions/{request.id}/postpone",
        data={"csrf": token, "reason": "legal hold", "until": until.strftime("%Y-%m-%dT%H:%M")},
    )
    assert postponed.status_code == 303
    assert (await DeletionRequest.get(id=request.id)).next_attempt_at == until
    actions = [
        (e.action, e.subject_id)
        for e in await StaffAuditEntry.filter(resource="DeletionRequest").order_by("seq")
    ]
    assert actions == [
        (StaffAction.RETRY_DELETION, pk(user.id)),
        (StaffAction.POSTPONE_DELETION, pk(user.id)),
    ]


async def test_passkey_sign_in_options_need_the_forms_token(browser_like):
    """The page's passkey sign-in asks for ``beginPasskeySignIn``'s options with the sign-in
    form's CSRF token (the browser's answer goes back the same way; tests/test_web_browser.py
    signs in with a virtual authenticator)."""
    import json

    form = await browser_like.get("/privacy/sign-in")
    assert 'id="passkey-button"' in form.text and "/web-static/passkey.js" in form.text
    refused = await browser_like.post("/privacy/sign-in/passkey/options", data={})
    assert refused.status_code == 403
    answer = await browser_like.post(
        "/privacy/sign-in/passkey/options", data={"csrf": csrf_of(form)}
    )
    assert answer.status_code == 200
    options = json.loads(answer.json()["options"])
    assert answer.json()["challengeId"] and options["userVerification"] == "required"
    wrong = await browser_like.post(
        "/privacy/sign-in/passkey",
        data={
            "csrf": csrf_of(form),
            "challenge_id": answer.json()["challengeId"],
            "credential": "{}",
        },
    )
    assert wrong.status_code == 400 and "accord_privacy" not in browser_like.cookies


async def test_a_form_field_with_a_control_character_is_refused_on_the_page(gql, browser_like):
    """Every form is checked once, as GraphQL's strings are: a NUL would reach PostgreSQL."""
    await register(gql, "nul.ada")
    form = await browser_like.get("/privacy/sign-in")
    refused = await browser_like.post(
        "/privacy/sign-in",
        data={"csrf": csrf_of(form), "account_name": "nul\x00ada", "password": PASSWORD},
    )
    assert refused.status_code == 400 and "must not contain control characters" in refused.text
    assert "accord_privacy" not in browser_like.cookies
    await sign_in(browser_like, "nul.ada")
    page = await browser_like.get("/privacy")
    answer = await browser_like.post(
        "/privacy/consents",
        data={"csrf": csrf_of(page), "purpose": "analy\x00tics", "granted": "yes"},
    )
    assert answer.status_code == 400 and "must not contain control characters" in answer.text
