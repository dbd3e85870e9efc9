"""Verified e-mail addresses and phone numbers (issue 15), as a test gets them: added
through the API, the code delivered through the outbox to the test SMTP server (or to a
local SMS gateway), read from what arrived there, and sent back with verifyContact.

``Account.email``/``Account.phone`` are set by nothing else, so every test that wants
notices to reach someone goes through here.
"""

from __future__ import annotations

import re
import tempfile
from email.message import Message
from pathlib import Path
from typing import Any

from accord.settings import Settings
from models.notifications.delivery import deliver_notices
from tests.conftest import MAILBOX, make_settings
from tests.notification_helpers import body_of, recipients, sms_gateway

ADD_EMAIL = """
mutation($i: AddEmailInput!) {
  addEmail(input: $i) {
    verification { channel address expiresAt attemptsLeft }
    errors { code field message retryAfter }
  }
}
"""

ADD_PHONE = """
mutation($i: AddPhoneInput!) {
  addPhone(input: $i) {
    verification { channel address expiresAt attemptsLeft }
    errors { code field message retryAfter }
  }
}
"""

VERIFY = """
mutation($i: VerifyContactInput!) {
  verifyContact(input: $i) {
    account { email phone pendingEmail { address } pendingPhone { address } }
    errors { code field message }
  }
}
"""

REMOVE = """
mutation($i: RemoveContactInput!) {
  removeContact(input: $i) {
    account { email phone pendingEmail { address } pendingPhone { address } }
    errors { code field message }
  }
}
"""

CONTACTS = """
{ viewer { email phone
  pendingEmail { channel address expiresAt attemptsLeft }
  pendingPhone { channel address expiresAt attemptsLeft } } }
"""

CODE_SUBJECT = "Your Accord verification code"
CODE = re.compile(r"Your code is (\d{6})\.")


def delivery_settings(**overrides: Any) -> Settings:
    """What sending needs (the test SMTP server, the batch sizes), for sending in-process as
    the worker's ``deliver_account_notices`` job does; the database is the test's own."""
    unused = Path(tempfile.gettempdir())
    return make_settings(unused, "sqlite:///unused", "redis://unused", **overrides)


async def deliver(**overrides: Any) -> dict:
    """Send every notice and code that is owed, as the worker would."""
    return await deliver_notices(delivery_settings(**overrides))


def code_of(text: str) -> str:
    found = CODE.search(text)
    assert found, f"no code in {text!r}"
    return found.group(1)


def codes_mailed_to(address: str, since: int = 0) -> list[str]:
    """The codes the test SMTP server received for ``address``, oldest first."""
    return [
        code_of(body_of(message))
        for message in MAILBOX.received[since:]
        if message["Subject"] == CODE_SUBJECT and address in recipients(message)
    ]


def mail_to(address: str, since: int = 0) -> list[Message]:
    return [m for m in MAILBOX.received[since:] if address in recipients(m)]


async def mailed_code(address: str) -> str:
    """Deliver what is owed, then the newest code the SMTP server received for ``address``."""
    await deliver()
    codes = codes_mailed_to(address)
    assert codes, f"no code was mailed to {address}"
    return codes[-1]


async def add_email(gql, token: str, email: str, **proof: str) -> dict:
    body = await gql(ADD_EMAIL, {"i": {"email": email, **proof}}, token=token)
    return body["data"]["addEmail"]


async def add_phone(gql, token: str, phone: str, **proof: str) -> dict:
    body = await gql(ADD_PHONE, {"i": {"phone": phone, **proof}}, token=token)
    return body["data"]["addPhone"]


async def verify(gql, token: str, channel: str, code: str) -> dict:
    body = await gql(VERIFY, {"i": {"channel": channel, "code": code}}, token=token)
    return body["data"]["verifyContact"]


async def add_and_verify_email(gql, token: str, email: str) -> None:
    """``email`` becomes the account's verified address, through the real SMTP path."""
    added = await add_email(gql, token, email)
    assert added["errors"] == [], added
    verified = await verify(
        gql, token, "EMAIL", await mailed_code(added["verification"]["address"])
    )
    assert verified["errors"] == [], verified


async def add_and_verify_phone(gql, token: str, phone: str) -> None:
    """``phone`` becomes the account's verified number: the code goes by SMS to a local
    gateway of this helper's own (so a test's gateway sees only the test's messages)."""
    added = await add_phone(gql, token, phone)
    assert added["errors"] == [], added
    number = added["verification"]["address"]
    async with sms_gateway() as gateway:
        await deliver(sms_gateway_url=gateway.url)
        texts = gateway.to(number)
    assert texts, f"no SMS reached {number}"
    verified = await verify(gql, token, "PHONE", code_of(texts[-1]["body"]))
    assert verified["errors"] == [], verified
