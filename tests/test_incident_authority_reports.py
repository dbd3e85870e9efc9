"""Security incidents reported to the supervisory authority (policy 3.3(2), promise 26;
GDPR Art 33: within 72 hours of detection), and an incident's affected scope (promise 25:
only the affected accounts are told).

The clock runs from ``detectedAt``: the sweeper marks the incident AT_RISK, then OVERDUE,
and tells every privacy officer once per transition, however often (and however
concurrently) it runs; ``recordAuthorityReport`` stops it, once, audited; ``/metrics``
counts incidents at risk and overdue."""

from __future__ import annotations

from datetime import datetime, timedelta

from prometheus_client.parser import text_string_to_metric_families

from models import clock as domain_clock
from models.accounts.account import Role
from models.accounts.bindings import Binding
from models.rights.audit import StaffAction, StaffAuditEntry
from tests.consent_helpers import register
from tests.data_request_helpers import inbox
from tests.ids import pk
from tests.notification_helpers import person, rows_by_account, run_worker
from tests.test_data_request_clock import swept

HOUR = timedelta(hours=1)

INCIDENT_FIELDS = """
  id affected affectedProvider detectedAt authorityReportDueAt authorityReportedAt
  authorityReference authorityReport authorityReportUrgency
"""

REPORT = f"""
mutation($i: ReportSecurityIncidentInput!) {{
  reportSecurityIncident(input: $i) {{
    incident {{ {INCIDENT_FIELDS} }}
    campaign {{ id total }}
    errors {{ code field }}
  }}
}}
"""

RECORD = f"""
mutation($i: RecordAuthorityReportInput!) {{
  recordAuthorityReport(input: $i) {{ incident {{ {INCIDENT_FIELDS} }} errors {{ code field }} }}
}}
"""

INCIDENTS = f"{{ securityIncidents(first: 10) {{ edges {{ node {{ {INCIDENT_FIELDS} }} }} }} }}"

WORDS = {
    "title": "Order database read by an outsider",
    "impact": "Names and delivery addresses may have been read.",
    "measuresTaken": "We closed the hole and rotated every key.",
    "adviceToUsers": "Watch for mail pretending to come from us.",
    "remedies": "A year of identity monitoring for everyone affected.",
}


def iso(moment: datetime) -> str:
    return moment.isoformat()


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


async def report(gql, token: str, **given) -> dict:
    body = await gql(REPORT, {"i": {**WORDS, **given}}, token=token)
    return body["data"]["reportSecurityIncident"]


async def record(gql, token: str, **given) -> dict:
    body = await gql(RECORD, {"i": given}, token=token)
    return body["data"]["recordAuthorityReport"]


async def incident_view(gql, token: str) -> dict:
    [edge] = (await gql(INCIDENTS, token=token))["data"]["securityIncidents"]["edges"]
    return edge["node"]


async def authority_notices(gql, token: str) -> list[str]:
    return [n["kind"] for n in await inbox(gql, token) if n["kind"].startswith("AUTHORITY_")]


async def gauges(client) -> dict[str, float]:
    response = await client.get("/metrics")
    assert response.status_code == 200
    return {
        family.name: family.samples[0].value
        for family in text_string_to_metric_families(response.text)
        if family.name.startswith("accord_incident_reports_")
    }


async def test_the_72_hour_clock_warns_the_officers_once_and_the_report_stops_it(
    gql, client, settings, redis_url, clock
):
    officer = await register(gql, "olga.authority", role=Role.PRIVACY_OFFICER)
    admin = await register(gql, "adam.authority", role=Role.ADMIN)
    user = await register(gql, "ulla.authority")
    start = domain_clock.now()
    detected = start - 2 * HOUR
    result = await report(gql, officer.token, affected={"all": True}, detectedAt=iso(detected))
    assert result["errors"] == []
    incident = result["incident"]
    assert incident["affected"] == "ALL"
    assert at(incident["detectedAt"]) == detected
    assert at(incident["authorityReportDueAt"]) == detected + 72 * HOUR
    assert incident["authorityReportUrgency"] == "ON_TIME"
    assert incident["authorityReportedAt"] is None

    await swept(settings, redis_url, 2)
    assert await authority_notices(gql, officer.token) == []
    assert await gauges(client) == {
        "accord_incident_reports_at_risk": 0.0,
        "accord_incident_reports_overdue": 0.0,
    }

    # 50 hours after detection: due within 24 hours, AT_RISK; every officer (an ADMIN
    # holds the role) told once, however many sweeps run, one after another or at once.
    clock.use(lambda: detected + 50 * HOUR)
    await swept(settings, redis_url, 2)
    await swept(settings, redis_url, 3, together=True)
    assert (await incident_view(gql, officer.token))["authorityReportUrgency"] == "AT_RISK"
    for who in (officer, admin):
        assert await authority_notices(gql, who.token) == ["AUTHORITY_REPORT_AT_RISK"]
    [note] = [n for n in await inbox(gql, officer.token) if n["kind"].startswith("AUTHORITY_")]
    assert WORDS["title"] in note["body"] and "recordAuthorityReport" in note["body"]
    assert await authority_notices(gql, user.token) == []
    assert (await gauges(client))["accord_incident_reports_at_risk"] == 1.0

    # Past 72 hours: OVERDUE, told once more.
    clock.use(lambda: detected + 73 * HOUR)
    await swept(settings, redis_url, 3, together=True)
    await swept(settings, redis_url)
    for who in (officer, admin):
        assert await authority_notices(gql, who.token) == [
            "AUTHORITY_REPORT_OVERDUE",
            "AUTHORITY_REPORT_AT_RISK",
        ]
    assert await gauges(client) == {
        "accord_incident_reports_at_risk": 0.0,
        "accord_incident_reports_overdue": 1.0,
    }

    # The report, late: recorded, audited, and the clock stops.
    reported = detected + 72 * HOUR + timedelta(minutes=30)
    given = {
        "incidentId": incident["id"],
        "reportedAt": iso(reported),
        "reference": "CNIL-2031-0042",
        "summary": "About 1,200 accounts' names and delivery addresses; late because the "
        "scope took three days to establish.",
    }
    plain = await record(gql, user.token, **given)
    assert [e["code"] for e in plain["errors"]] == ["FORBIDDEN"] and plain["incident"] is None
    done = await record(gql, officer.token, **given)
    assert done["errors"] == []
    view = done["incident"]
    assert at(view["authorityReportedAt"]) == reported
    assert view["authorityReference"] == "CNIL-2031-0042"
    assert view["authorityReport"] == given["summary"]
    assert view["authorityReportUrgency"] is None
    [entry] = await StaffAuditEntry.filter(action=StaffAction.REPORT_TO_AUTHORITY)
    assert (entry.staff_id, entry.subject_id) == (pk(officer.id), None)
    assert entry.resource == "SecurityIncident" and "CNIL-2031-0042" in entry.reason

    # The same report again changes nothing and audits nothing; another is a CONFLICT.
    again = await record(gql, officer.token, **given)
    assert again["errors"] == [] and again["incident"] == view
    other = await record(gql, officer.token, **{**given, "reference": "CNIL-2031-0099"})
    assert [(e["code"], e["field"]) for e in other["errors"]] == [("CONFLICT", "incidentId")]
    assert await StaffAuditEntry.filter(action=StaffAction.REPORT_TO_AUTHORITY).count() == 1
    assert (await incident_view(gql, officer.token))["authorityReference"] == "CNIL-2031-0042"

    # Stopped: days later, no new notice and nothing counted.
    clock.use(lambda: detected + 100 * HOUR)
    await swept(settings, redis_url, 2)
    assert len(await authority_notices(gql, officer.token)) == 2
    assert await gauges(client) == {
        "accord_incident_reports_at_risk": 0.0,
        "accord_incident_reports_overdue": 0.0,
    }


async def test_a_report_is_checked_before_it_is_recorded(gql):
    officer = await register(gql, "otto.authority", role=Role.PRIVACY_OFFICER)
    now = domain_clock.now()
    future = await report(gql, officer.token, affected={"all": True}, detectedAt=iso(now + HOUR))
    assert [(e["code"], e["field"]) for e in future["errors"]] == [("INVALID", "detectedAt")]
    result = await report(gql, officer.token, affected={"all": True}, detectedAt=iso(now - HOUR))
    node = result["incident"]["id"]
    given = {"incidentId": node, "reference": "R-1", "summary": "What happened."}
    cases = [
        ({"reportedAt": iso(now + HOUR)}, ("INVALID", "reportedAt")),
        ({"reportedAt": iso(now - 2 * HOUR)}, ("INVALID", "reportedAt")),
        ({"reportedAt": iso(now), "reference": "  "}, ("INVALID", "reference")),
        ({"reportedAt": iso(now), "summary": ""}, ("INVALID", "summary")),
        ({"reportedAt": iso(now), "incidentId": "U2VjdXJpdHlJbmNpZGVudDo5OTk5"}, None),
    ]
    for change, expected in cases:
        answer = await record(gql, officer.token, **{**given, **change})
        codes = [(e["code"], e["field"]) for e in answer["errors"]]
        if expected is None:
            assert codes == [("NOT_FOUND", "incidentId")]
        else:
            assert codes == [expected], change
    assert (await incident_view(gql, officer.token))["authorityReportedAt"] is None
    assert await StaffAuditEntry.filter(action=StaffAction.REPORT_TO_AUTHORITY).count() == 0


async def test_an_incident_at_a_provider_reaches_only_the_accounts_bound_to_it(
    gql, settings, redis_url
):
    officer = await person(gql, "officer.bound", role=Role.PRIVACY_OFFICER)
    alice = await person(gql, "alice.bound")
    dave = await person(gql, "dave.bound")  # bound elsewhere, between the others
    bob = await person(gql, "bob.bound", email=False)
    erin = await person(gql, "erin.bound")  # no binding at all
    await Binding.create(account_id=pk(alice.id), provider="dev", subject="alice-sub")
    await Binding.create(account_id=pk(dave.id), provider="elsewhere", subject="dave-sub")
    await Binding.create(account_id=pk(bob.id), provider="dev", subject="bob-sub")

    unknown = await report(gql, officer.token, affected={"boundToProvider": "nowhere"})
    assert [(e["code"], e["field"]) for e in unknown["errors"]] == [("NOT_FOUND", "affected")]
    both = await report(
        gql, officer.token, affected={"boundToProvider": "dev"}, affectedAccountIds=[alice.id]
    )
    assert [(e["code"], e["field"]) for e in both["errors"]] == [("REQUIRED", "affected")]

    result = await report(gql, officer.token, affected={"boundToProvider": "dev"})
    assert result["errors"] == []
    assert result["incident"]["affected"] == "BOUND_TO_PROVIDER"
    assert result["incident"]["affectedProvider"] == "dev"
    assert result["campaign"]["total"] == 2
    await run_worker(settings, redis_url)
    rows = await rows_by_account(pk(result["campaign"]["id"]))
    assert {k: dict(v) for k, v in rows.items()} == {
        pk(alice.id): {"IN_APP": 1, "EMAIL": 1},
        pk(bob.id): {"IN_APP": 1},
    }
    for outside in (officer, dave, erin):
        assert await inbox(gql, outside.token) == []
    [note] = await inbox(gql, alice.token)
    assert note["kind"] == "SECURITY_INCIDENT" and WORDS["impact"] in note["body"]

    # The listed scope still works, through `affected` and the older field alike.
    listed = await report(gql, officer.token, affected={"accountIds": [erin.id]})
    older = await report(gql, officer.token, affectedAccountIds=[erin.id])
    for answer in (listed, older):
        assert answer["errors"] == [] and answer["incident"]["affected"] == "ACCOUNTS"
        assert answer["campaign"]["total"] == 1
