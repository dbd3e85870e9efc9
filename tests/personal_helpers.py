"""Shared steps of the personal-data tests (issue 5): users, consent, pictures, documents."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from PIL import Image

from models.accounts.account import Account, Role, account_name_index
from tests.ids import key

PASSWORD = "correct horse battery staple"
ERRORS = "errors { code field message }"

REGISTER = """
mutation($input: RegisterInput!) {
  register(input: $input) { token account { id } errors { code field } }
}
"""

ADD_FAVORITE = f"""
mutation($input: AddFavoriteInput!) {{
  addFavorite(input: $input) {{ favorite {{ id itemType itemId note createdAt }} {ERRORS} }}
}}"""

REMOVE_FAVORITE = f"""
mutation($id: ID!) {{ removeFavorite(input: {{id: $id}}) {{ {ERRORS} }} }}"""

FAVORITES = """
query($first: Int!, $after: String, $itemType: String) {
  viewer { favorites(first: $first, after: $after, itemType: $itemType) {
    edges { cursor node { id itemType itemId note } }
    pageInfo { hasNextPage endCursor }
  } }
}"""

SUBMIT_FEEDBACK = f"""
mutation($input: SubmitFeedbackInput!) {{
  submitFeedback(input: $input) {{
    feedback {{
      id kind subject body rating visibility createdAt pictures {{ id url width height }}
    }}
    {ERRORS}
  }}
}}"""

DELETE_FEEDBACK = f"""
mutation($id: ID!) {{ deleteFeedback(input: {{id: $id}}) {{ {ERRORS} }} }}"""

MY_FEEDBACK = """
query($first: Int!, $after: String) {
  viewer { feedback(first: $first, after: $after) {
    edges { cursor node {
      id kind subject body rating visibility pictures { id url width height }
    } }
    pageInfo { hasNextPage endCursor }
  } }
}"""

PUBLIC_FEEDBACK = """
query($subject: String!, $first: Int! = 20, $after: String) {
  publicFeedback(subject: $subject, first: $first, after: $after) {
    edges { cursor node {
      id kind subject body rating visibility pictures { id url }
      author { nickname avatarUrl }
    } }
    pageInfo { hasNextPage endCursor }
  }
}"""

UPLOAD = f"""
mutation($input: UploadPictureInput!) {{
  uploadPicture(input: $input) {{ picture {{ id url width height }} {ERRORS} }}
}}"""

REPORT_ERROR = f"""
mutation($input: ReportErrorInput!) {{ reportError(input: $input) {{ id {ERRORS} }} }}"""

CONTACT_SUPPORT = f"""
mutation($input: ContactSupportInput!) {{
  contactSupport(input: $input) {{
    thread {{ id subject orderRef status messages {{ id fromStaff body }} }}
    {ERRORS}
  }}
}}"""

REPLY_TO_SUPPORT = f"""
mutation($input: ReplyToSupportInput!) {{
  replyToSupport(input: $input) {{ message {{ id fromStaff body }} {ERRORS} }}
}}"""

STAFF_REPLY = f"""
mutation($input: StaffReplyInput!) {{
  staffReply(input: $input) {{ message {{ id fromStaff body }} {ERRORS} }}
}}"""

MY_THREADS = """
{ viewer { supportThreads(first: 100) { edges { node {
  id subject orderRef status messages { id fromStaff body } } } } } }"""

SUPPORT_QUEUE = "{ supportQueue { id subject createdAt } }"

SUPPORT_THREAD = """
query($id: ID!) {
  supportThread(id: $id) { id subject orderRef status messages { id fromStaff body } }
}"""

DEFINE_QUESTIONNAIRE = f"""
mutation($input: DefineQuestionnaireInput!) {{
  defineQuestionnaire(input: $input) {{ questionnaire {{ id title questions }} {ERRORS} }}
}}"""

QUESTIONNAIRES = "{ questionnaires { id title questions } }"

ANSWER_QUESTIONNAIRE = f"""
mutation($input: AnswerQuestionnaireInput!) {{
  answerQuestionnaire(input: $input) {{ {ERRORS} }}
}}"""

RECORD_SEARCH = f"""
mutation($input: RecordSearchInput!) {{ recordSearch(input: $input) {{ recorded {ERRORS} }} }}"""

RECORD_CLICK = f"""
mutation($input: RecordClickInput!) {{ recordClick(input: $input) {{ recorded {ERRORS} }} }}"""

REGISTER_DEVICE = f"""
mutation($input: RegisterDeviceInput!) {{
  registerDevice(input: $input) {{ deviceId {ERRORS} }}
}}"""

CLEAR_DEVICE = f"""
mutation($deviceId: String!) {{
  clearDeviceData(input: {{deviceId: $deviceId}}) {{
    cleared {{ searchRecords clickRecords errorReports consentEvents devices }}
    {ERRORS}
  }}
}}"""

SET_CONSENTS = """
mutation($input: SetConsentsInput!) {
  setConsents(input: $input) { consents { id } errors { code field } }
}"""


@dataclass
class User:
    name: str
    token: str
    id: str


async def register(
    gql,
    name: str,
    *,
    role: Role | None = None,
    nickname: str | None = None,
    avatar_url: str | None = None,
) -> User:
    given: dict[str, Any] = {
        "accountName": name,
        "password": PASSWORD,
        "nickname": nickname or name,
    }
    if avatar_url is not None:
        given["avatarUrl"] = avatar_url
    body = await gql(REGISTER, {"input": given})
    result = body["data"]["register"]
    assert result["errors"] == [], result
    if role is not None:
        await Account.filter(account_name_index=await account_name_index(name)).update(role=role)
    return User(name, result["token"], result["account"]["id"])


def codes(payload: dict[str, Any]) -> list[tuple[str, str | None]]:
    """The (code, field) pairs of a payload's errors, in order."""
    return [(e["code"], e["field"]) for e in payload["errors"]]


# --- consent to activity_log ----------------------------------------------------------------


async def ensure_policy(version: str = "v1") -> None:
    from models.consent.policies import PolicyVersion, publish_policy

    if not await PolicyVersion.filter(version=version).exists():
        await publish_policy(
            version=version,
            summary="s",
            text="t",
            effective_at=datetime(2020, 1, 1, tzinfo=UTC),
            material=False,
            change_categories=[],
            purpose_codes=[],
        )


async def decide_activity_log(
    gql, granted: bool, *, token: str | None = None, device_id: str | None = None
) -> None:
    """Grant or withdraw ``activity_log`` (signed in, or anonymously for a device)."""
    await ensure_policy()
    given: dict[str, Any] = {
        "policyVersion": "v1",
        "decisions": [{"purpose": "activity_log", "granted": granted}],
    }
    if device_id is not None:
        given["deviceId"] = device_id
    body = await gql(SET_CONSENTS, {"input": given}, token=token)
    assert body["data"]["setConsents"]["errors"] == [], body


# --- pictures -------------------------------------------------------------------------------


def image_bytes(
    fmt: str, size: tuple[int, int] = (48, 32), mode: str = "RGB", **options: Any
) -> bytes:
    image = Image.new(mode, size, "red" if mode in ("RGB", "RGBA") else 1)
    out = io.BytesIO()
    image.save(out, format=fmt, **options)
    return out.getvalue()


def gps_exif() -> Image.Exif:
    """EXIF with a GPS position and the camera's make, model and body serial number."""
    exif = Image.Exif()
    exif[0x010F] = "SpyCam Inc."  # Make
    exif[0x0110] = "Model X"  # Model
    exif.get_ifd(0x8769)[0xA431] = "SERIAL-123456"  # BodySerialNumber (Exif IFD)
    gps = exif.get_ifd(0x8825)  # GPSInfo IFD
    gps[1] = "N"
    gps[2] = (48.0, 51.0, 30.0)
    gps[3] = "E"
    gps[4] = (2.0, 17.0, 40.0)
    return exif


async def upload(
    client,
    data: bytes,
    *,
    token: str | None,
    filename: str = "picture.jpg",
    content_type: str = "image/jpeg",
) -> dict[str, Any]:
    """uploadPicture through the GraphQL multipart request spec; returns the payload."""
    operations = {"query": UPLOAD, "variables": {"input": {"file": None}}}
    headers = {"authorization": f"Bearer {token}"} if token else {}
    response = await client.post(
        "/graphql",
        data={
            "operations": json.dumps(operations),
            "map": json.dumps({"0": ["variables.input.file"]}),
        },
        files={"0": (filename, data, content_type)},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body["errors"]
    return body["data"]["uploadPicture"]


async def uploaded(client, token: str, data: bytes | None = None, **kw: Any) -> dict[str, Any]:
    """Upload a picture that must be accepted; returns it."""
    result = await upload(client, data or image_bytes("PNG"), token=token, **kw)
    assert result["errors"] == [], result
    return result["picture"]


# --- feedback, favorites, support ----------------------------------------------------------


def file_path(picture: dict[str, Any]) -> str:
    """A picture's file without a signed link: the path that wants a bearer token."""
    return f"/pictures/{key(picture['id'])}"


async def submit(gql, token: str, **fields: Any) -> dict[str, Any]:
    given: dict[str, Any] = {"kind": "FEEDBACK", "subject": "product-1", "body": "Nice."}
    given.update(fields)
    body = await gql(SUBMIT_FEEDBACK, {"input": given}, token=token)
    return body["data"]["submitFeedback"]


async def submitted(gql, token: str, **fields: Any) -> dict[str, Any]:
    result = await submit(gql, token, **fields)
    assert result["errors"] == [], result
    return result["feedback"]


async def add_favorite(gql, token: str | None, **fields: Any) -> dict[str, Any]:
    given: dict[str, Any] = {"itemType": "product", "itemId": "p-1"}
    given.update(fields)
    body = await gql(ADD_FAVORITE, {"input": given}, token=token)
    return body["data"]["addFavorite"]


async def favorite(gql, token: str, **fields: Any) -> dict[str, Any]:
    result = await add_favorite(gql, token, **fields)
    assert result["errors"] == [], result
    return result["favorite"]


async def contact(gql, token: str | None, **fields: Any) -> dict[str, Any]:
    given: dict[str, Any] = {"subject": "Where is my order?", "message": "It is late."}
    given.update(fields)
    body = await gql(CONTACT_SUPPORT, {"input": given}, token=token)
    return body["data"]["contactSupport"]


async def thread(gql, token: str, **fields: Any) -> dict[str, Any]:
    result = await contact(gql, token, **fields)
    assert result["errors"] == [], result
    return result["thread"]


# --- counting SQL -----------------------------------------------------------------------------


class _Counter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.queries: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if not message.startswith(("Created connection pool", "Closed connection pool")):
            self.queries.append(message)


@contextmanager
def counting_queries() -> Iterator[list[str]]:
    """The SQL statements the ORM runs inside the block (from ``tortoise.db_client``)."""
    logger = logging.getLogger("tortoise.db_client")
    handler = _Counter()
    previous_level, previous_propagate = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    try:
        yield handler.queries
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous_level)
        logger.propagate = previous_propagate


async def raw_gql(
    client, query: str, variables: dict[str, Any], *, token: str | None = None
) -> dict[str, Any]:
    """Post a body encoded by the stdlib (ASCII escapes), so it may carry what a hand-made
    client can send but httpx would refuse to encode: lone surrogates, NaN, Infinity."""
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    response = await client.post(
        "/graphql", content=json.dumps({"query": query, "variables": variables}), headers=headers
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body["errors"]
    return body
