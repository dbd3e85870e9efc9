"""Purposes: the seeded defaults, and staff-only management (issue 4)."""

from __future__ import annotations

from models.accounts.account import Role
from models.consent.purposes import DEFAULT_PURPOSES
from tests.consent_helpers import codes, officer, register

PURPOSES = "{ purposes { code title description required legalBasis category } }"

CREATE = """
mutation($input: CreatePurposeInput!) {
  createPurpose(input: $input) {
    purpose { code title description required legalBasis category }
    errors { code field }
  }
}
"""

UPDATE = """
mutation($input: UpdatePurposeInput!) {
  updatePurpose(input: $input) {
    purpose { code title description required legalBasis category }
    errors { code field }
  }
}
"""

NEW = {
    "code": "research",
    "title": "Research",
    "description": "Studies of how the service is used.",
    "legalBasis": "LEGITIMATE_INTEREST",
    "category": "Research",
}


async def test_purposes_lists_the_seeded_defaults(gql):
    rows = (await gql(PURPOSES))["data"]["purposes"]
    assert [r["code"] for r in rows] == [p["code"] for p in DEFAULT_PURPOSES]
    by_code = {r["code"]: r for r in rows}
    assert set(by_code) == {
        "necessary",
        "personalization",
        "analytics",
        "advertising",
        "activity_log",
    }
    assert by_code["necessary"]["required"] is True
    assert by_code["necessary"]["legalBasis"] == "CONTRACT"
    assert [c for c, r in by_code.items() if r["required"]] == ["necessary"]
    assert by_code["analytics"]["legalBasis"] == "CONSENT"
    assert all(r["title"] and r["description"] and r["category"] for r in rows)


async def test_privacy_officer_creates_and_updates_a_purpose(gql):
    staff = await officer(gql)
    created = (await gql(CREATE, {"input": NEW}, token=staff.token))["data"]["createPurpose"]
    assert created["errors"] == []
    assert created["purpose"] == {**NEW, "required": False}

    updated = await gql(
        UPDATE,
        {"input": {"code": "research", "title": "Product research", "legalBasis": "CONSENT"}},
        token=staff.token,
    )
    result = updated["data"]["updatePurpose"]
    assert result["errors"] == []
    assert result["purpose"]["title"] == "Product research"
    assert result["purpose"]["legalBasis"] == "CONSENT"
    assert result["purpose"]["description"] == NEW["description"]  # untouched

    rows = {r["code"]: r for r in (await gql(PURPOSES))["data"]["purposes"]}
    assert rows["research"]["title"] == "Product research"
    assert len(rows) == len(DEFAULT_PURPOSES) + 1


async def test_an_admin_may_manage_purposes_too(gql):
    admin = await register(gql, "admin", role=Role.ADMIN)
    created = (await gql(CREATE, {"input": NEW}, token=admin.token))["data"]["createPurpose"]
    assert created["errors"] == []


async def test_users_and_strangers_may_not_manage_purposes(gql):
    user = await register(gql, "alice")
    support = await register(gql, "sam", role=Role.SUPPORT)
    for token, expected in (
        (user.token, "FORBIDDEN"),
        (support.token, "FORBIDDEN"),
        (None, "NOT_AUTHENTICATED"),
    ):
        created = (await gql(CREATE, {"input": NEW}, token=token))["data"]["createPurpose"]
        assert created["purpose"] is None
        assert codes(created["errors"]) == [expected]
        updated = await gql(
            UPDATE, {"input": {"code": "analytics", "title": "Hijacked"}}, token=token
        )
        assert updated["data"]["updatePurpose"]["purpose"] is None
        assert codes(updated["data"]["updatePurpose"]["errors"]) == [expected]
    rows = {r["code"]: r for r in (await gql(PURPOSES))["data"]["purposes"]}
    assert "research" not in rows
    assert rows["analytics"]["title"] == "Analytics"


async def test_purpose_code_is_unique_and_validated(gql):
    staff = await officer(gql)
    duplicate = await gql(CREATE, {"input": {**NEW, "code": "analytics"}}, token=staff.token)
    assert codes(duplicate["data"]["createPurpose"]["errors"]) == ["UNIQUE"]
    assert duplicate["data"]["createPurpose"]["errors"][0]["field"] == "code"
    shouting = await gql(CREATE, {"input": {**NEW, "code": "ANALYTICS"}}, token=staff.token)
    assert codes(shouting["data"]["createPurpose"]["errors"]) == ["UNIQUE"]
    bad = await gql(CREATE, {"input": {**NEW, "code": "no spaces"}}, token=staff.token)
    assert codes(bad["data"]["createPurpose"]["errors"]) == ["INVALID"]
    blank = await gql(CREATE, {"input": {**NEW, "title": "  "}}, token=staff.token)
    assert codes(blank["data"]["createPurpose"]["errors"]) == ["INVALID"]
    missing = await gql(UPDATE, {"input": {"code": "nope", "title": "x"}}, token=staff.token)
    assert codes(missing["data"]["updatePurpose"]["errors"]) == ["NOT_FOUND"]
