"""Material changes visible to everyone (the policy's section 5, issue 19): every version is
announced publicly, so a visitor who is signed out sees it; a material one names what
changes (section 5's categories), when, and the version's summary, and stays up until
``ACCORD_MATERIAL_CHANGE_NOTICE_DAYS`` after it takes effect."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.conftest import GraphQL
from tests.consent_helpers import officer, published

ANNOUNCEMENTS = """{ announcements { kind title body expiresAt
  policyVersion { version summary material changeCategories effectiveAt } } }"""


async def test_a_material_version_is_announced_to_visitors_signed_out(app_with, clock):
    effective = datetime.now(UTC).replace(microsecond=0) + timedelta(days=14)
    async with app_with(material_change_notice_days=10) as http:
        gql = GraphQL(http)
        staff = await officer(gql)
        await published(
            gql,
            staff.token,
            "2027-01",
            material=True,
            categories=["SHARING_RECIPIENTS", "USER_RIGHTS"],
            effective_at=effective,
            url="https://example.com/privacy/2027-01",
            text_sha256="ab" * 32,
            summary="We now share crash reports with our hosting provider.",
        )
        [notice] = (await gql(ANNOUNCEMENTS))["data"]["announcements"]  # no sign-in
        assert notice["kind"] == "POLICY_CHANGE"
        assert notice["title"] == "Privacy policy 2027-01: material changes from " + (
            f"{effective:%Y-%m-%d}"
        )
        assert "(b) who personal information is shared with" in notice["body"]
        assert "(c) your rights and how to use them" in notice["body"]
        assert f"{effective:%Y-%m-%d %H:%M} UTC" in notice["body"]
        assert "crash reports with our hosting provider" in notice["body"]
        assert "https://example.com/privacy/2027-01" in notice["body"]
        assert notice["policyVersion"] == {
            "version": "2027-01",
            "summary": "We now share crash reports with our hosting provider.",
            "material": True,
            "changeCategories": ["SHARING_RECIPIENTS", "USER_RIGHTS"],
            "effectiveAt": effective.isoformat(),
        }
        ends = datetime.fromisoformat(notice["expiresAt"])
        assert ends == effective + timedelta(days=10)

        # Up until ten days after the version takes effect, then gone.
        clock.use(lambda: ends - timedelta(minutes=1))
        assert len((await gql(ANNOUNCEMENTS))["data"]["announcements"]) == 1
        clock.use(lambda: ends + timedelta(minutes=1))
        assert (await gql(ANNOUNCEMENTS))["data"]["announcements"] == []


async def test_a_minor_version_is_announced_with_its_summary(gql):
    staff = await officer(gql)
    await published(gql, staff.token, "2027-02", summary="Typos fixed.")
    [notice] = (await gql(ANNOUNCEMENTS))["data"]["announcements"]
    assert (notice["title"], notice["body"], notice["expiresAt"]) == (
        "Privacy policy 2027-02",
        "Typos fixed.",
        None,
    )
    assert notice["policyVersion"]["material"] is False
