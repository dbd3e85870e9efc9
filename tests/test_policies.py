"""Policy versions: publishing (staff only), validation, immutability, paging, current."""

from __future__ import annotations

import base64
import hashlib
from datetime import timedelta

from models.accounts.account import Role
from models.consent.policies import PolicyVersion
from tests.consent_helpers import codes, iso, officer, publish, published, register, utcnow

POLICIES = """
query($first: Int!, $after: String) {
  policies(first: $first, after: $after) {
    edges { cursor node { version material } }
    pageInfo { hasNextPage endCursor }
  }
}
"""

CURRENT = "{ currentPolicy { version summary textSha256 effectiveAt } }"

HASH = "ab" * 32


async def test_publish_with_text_computes_its_sha256(gql):
    staff = await officer(gql)
    text = "We use your data only for the purposes stated here. Été, naïve: UTF-8."
    effective = utcnow() - timedelta(minutes=1)
    policy = await published(
        gql,
        staff.token,
        "2024-01",
        text=text,
        effective_at=effective,
        purposes=["necessary", "analytics"],
        summary="  First version  ",
    )
    assert policy["textSha256"] == hashlib.sha256(text.encode()).hexdigest()
    assert policy["url"] is None
    assert policy["summary"] == "First version"
    assert policy["material"] is False
    assert policy["changeCategories"] == []
    assert sorted(p["code"] for p in policy["purposes"]) == ["analytics", "necessary"]
    assert policy["publishedAt"] and policy["effectiveAt"]
    stored = await PolicyVersion.get(version="2024-01")
    assert stored.text == text
    assert abs((stored.effective_at - effective).total_seconds()) < 0.001


async def test_publish_with_text_and_the_matching_hash_is_accepted(gql):
    staff = await officer(gql)
    text = "Policy text."
    digest = hashlib.sha256(text.encode()).hexdigest()
    policy = await published(gql, staff.token, "v1", text=text, text_sha256=digest.upper())
    assert policy["textSha256"] == digest
    wrong = await publish(gql, staff.token, "v2", text=text, text_sha256=HASH)
    assert codes(wrong["errors"]) == ["INVALID"]
    assert wrong["errors"][0]["field"] == "textSha256"


async def test_publish_by_url_and_hash(gql):
    staff = await officer(gql)
    policy = await published(
        gql,
        staff.token,
        "v1",
        url="https://example.com/privacy/v1",
        text_sha256=HASH.upper(),
        material=True,
        categories=["SHARING_RECIPIENTS", "USER_RIGHTS"],
    )
    assert policy["url"] == "https://example.com/privacy/v1"
    assert policy["textSha256"] == HASH
    assert policy["material"] is True
    assert policy["changeCategories"] == ["SHARING_RECIPIENTS", "USER_RIGHTS"]


async def test_publish_validation_errors(gql):
    staff = await officer(gql)
    cases = [
        ({"url": "https://example.com/p"}, "INVALID", "textSha256"),  # no hash for the URL
        ({"url": "https://example.com/p", "text_sha256": "xyz"}, "INVALID", "textSha256"),
        ({"url": "http://example.com/p", "text_sha256": HASH}, "INVALID", "url"),
        ({"url": "not a url", "text_sha256": HASH}, "INVALID", "url"),
        ({"summary": "   "}, "INVALID", "summary"),
        ({"material": True}, "REQUIRED", "changeCategories"),
        ({"purposes": ["analytics", "telepathy"]}, "NOT_FOUND", "purposes"),
    ]
    for options, code, field in cases:
        result = await publish(gql, staff.token, "v1", **options)
        assert result["policy"] is None, options
        assert [(e["code"], e["field"]) for e in result["errors"]] == [(code, field)], options
    for version in ("", "has space", "x" * 33):
        result = await publish(gql, staff.token, version)
        assert codes(result["errors"]) == ["INVALID"], version
    body = await gql(
        """mutation { publishPolicy(input: {version: "v1", summary: "s",
             effectiveAt: "2024-01-01T00:00:00+00:00", material: false}) {
             policy { version } errors { code field } } }""",
        token=staff.token,
    )
    assert codes(body["data"]["publishPolicy"]["errors"]) == ["REQUIRED"]
    assert await PolicyVersion.all().count() == 0


async def test_only_staff_publish(gql):
    user = await register(gql, "alice")
    support = await register(gql, "sam", role=Role.SUPPORT)
    for token, expected in (
        (user.token, "FORBIDDEN"),
        (support.token, "FORBIDDEN"),
        (None, "NOT_AUTHENTICATED"),
    ):
        result = await publish(gql, token, "v1")
        assert result["policy"] is None
        assert codes(result["errors"]) == [expected]
    assert await PolicyVersion.all().count() == 0
    admin = await register(gql, "root", role=Role.ADMIN)
    assert (await publish(gql, admin.token, "v1"))["errors"] == []


async def test_published_versions_are_immutable(gql):
    staff = await officer(gql)
    original = await published(gql, staff.token, "v1", text="Original text.")
    again = await publish(
        gql,
        staff.token,
        "v1",
        text="Rewritten text.",
        material=True,
        categories=["OTHER"],
        summary="Sneaky rewrite",
    )
    assert codes(again["errors"]) == ["UNIQUE"]
    assert again["errors"][0]["field"] == "version"
    spaced = await publish(gql, staff.token, " v1 ", text="Rewritten text.")
    assert codes(spaced["errors"]) == ["UNIQUE"]
    stored = await PolicyVersion.get(version="v1")
    assert stored.text == "Original text."
    assert stored.text_sha256 == original["textSha256"]
    assert stored.summary == original["summary"]
    assert stored.material is False

    # No mutation edits or removes a policy version: the only ones naming a policy publish
    # a new version or record an acceptance.
    body = await gql('{ __type(name: "Mutation") { fields { name } } }')
    names = [f["name"] for f in body["data"]["__type"]["fields"]]
    assert sorted(n for n in names if "olic" in n) == ["acceptPolicy", "publishPolicy"]


async def test_policies_connection_pages(gql):
    staff = await officer(gql)
    start = utcnow() - timedelta(days=30)
    for n in range(1, 6):
        await published(gql, staff.token, f"v{n}", effective_at=start + timedelta(days=n))
    first = (await gql(POLICIES, {"first": 2}))["data"]["policies"]
    assert [e["node"]["version"] for e in first["edges"]] == ["v5", "v4"]
    assert first["pageInfo"]["hasNextPage"] is True
    assert first["pageInfo"]["endCursor"] == first["edges"][-1]["cursor"]
    second = await gql(POLICIES, {"first": 2, "after": first["pageInfo"]["endCursor"]})
    second = second["data"]["policies"]
    assert [e["node"]["version"] for e in second["edges"]] == ["v3", "v2"]
    assert second["pageInfo"]["hasNextPage"] is True
    last = await gql(POLICIES, {"first": 2, "after": second["pageInfo"]["endCursor"]})
    last = last["data"]["policies"]
    assert [e["node"]["version"] for e in last["edges"]] == ["v1"]
    assert last["pageInfo"]["hasNextPage"] is False
    everything = (await gql(POLICIES, {"first": 5}))["data"]["policies"]
    assert len(everything["edges"]) == 5
    assert everything["pageInfo"]["hasNextPage"] is False
    forged = (await gql(POLICIES, {"first": 5, "after": "bm9wZQ=="}))["data"]["policies"]
    assert forged["edges"] == []
    huge = base64.urlsafe_b64encode(b"id:" + b"9" * 30).decode()  # beyond any 64-bit id
    assert (await gql(POLICIES, {"first": 5, "after": huge}))["data"]["policies"]["edges"] == []


async def test_current_policy_is_the_newest_already_in_effect(gql):
    assert (await gql(CURRENT))["data"]["currentPolicy"] is None
    staff = await officer(gql)
    moment = utcnow()
    await published(gql, staff.token, "old", effective_at=moment - timedelta(days=10))
    await published(gql, staff.token, "now", effective_at=moment - timedelta(seconds=5))
    await published(gql, staff.token, "next", effective_at=moment + timedelta(days=7))
    # Published last but backdated: effective before "now", so not the current one.
    await published(gql, staff.token, "backdated", effective_at=moment - timedelta(days=5))
    current = (await gql(CURRENT))["data"]["currentPolicy"]
    assert current["version"] == "now"
    await PolicyVersion.filter(version="next").update(effective_at=moment - timedelta(seconds=1))
    assert (await gql(CURRENT))["data"]["currentPolicy"]["version"] == "next"


async def test_effective_at_round_trips(gql):
    staff = await officer(gql)
    effective = (utcnow() + timedelta(days=3)).replace(microsecond=0)
    policy = await published(gql, staff.token, "v9", effective_at=effective)
    assert policy["effectiveAt"].replace("Z", "+00:00") == iso(effective)


async def test_policies_are_listed_newest_effective_first(gql):
    """As documented on the field: by effective date, not by publication order."""
    staff = await officer(gql)
    moment = utcnow()
    await published(gql, staff.token, "v1", effective_at=moment - timedelta(days=10))
    await published(gql, staff.token, "v2", effective_at=moment + timedelta(days=7))
    await published(gql, staff.token, "v3", effective_at=moment - timedelta(days=20))
    await published(gql, staff.token, "v4", effective_at=moment - timedelta(seconds=1))
    await published(gql, staff.token, "v5", effective_at=moment - timedelta(days=10))
    seen, after = [], None
    while True:
        page = (await gql(POLICIES, {"first": 2, "after": after}))["data"]["policies"]
        seen.extend(e["node"]["version"] for e in page["edges"])
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    # Same effective date: the later published first.
    assert seen == ["v2", "v4", "v5", "v1", "v3"]
