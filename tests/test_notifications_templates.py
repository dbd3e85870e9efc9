"""Message templates (issue 7): every campaign kind renders, with what it must say."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from jinja2 import UndefinedError

from models.notifications.inbox import NotificationKind
from models.notifications.messages import TEMPLATES, render

INCIDENT = {
    "title": "Card numbers exposed",
    "impact": "The last four digits of saved cards could be read.",
    "measures_taken": "We removed the faulty page and reset every session.",
    "advice_to_users": "Check your statements and report any charge you do not know.",
    "remedies": "We refund every fraudulent charge in full.",
}


def test_a_policy_change_says_what_when_and_where():
    message = render(
        NotificationKind.POLICY_CHANGE,
        {
            "version": "2031-05",
            "summary": "We now share addresses with couriers.",
            "url": "https://accord.example/policy/2031-05",
            "effective_at": "2031-05-01 12:00 UTC",
            "categories": ["SHARING_RECIPIENTS", "USER_RIGHTS"],
        },
    )
    assert message.subject == "Our privacy policy is changing (version 2031-05)"
    for needed in (
        "2031-05",
        "2031-05-01 12:00 UTC",
        "We now share addresses with couriers.",
        "https://accord.example/policy/2031-05",
        "SHARING_RECIPIENTS, USER_RIGHTS",
        "accept",
    ):
        assert needed in message.body, needed
    assert "{{" not in message.body and "{%" not in message.body
    # Without a URL or categories the lines about them are left out, not rendered empty.
    bare = render(
        NotificationKind.POLICY_CHANGE,
        {"version": "v3", "summary": "s", "url": None, "effective_at": "soon", "categories": []},
    )
    assert "Read the new policy" not in bare.body and "It changes" not in bare.body


def test_an_incident_carries_every_required_part():
    message = render(NotificationKind.SECURITY_INCIDENT, INCIDENT)
    assert message.subject == "Security incident: Card numbers exposed"
    body = message.body
    for part in ("impact", "measures_taken", "advice_to_users", "remedies"):
        assert INCIDENT[part] in body, part
    # In the order the policy lists them: impact, measures, advice, remedies.
    positions = [
        body.index(INCIDENT[p]) for p in ("impact", "measures_taken", "advice_to_users", "remedies")
    ]
    assert positions == sorted(positions)
    for part in INCIDENT:
        if part != "title":
            missing = {k: v for k, v in INCIDENT.items() if k != part}
            with pytest.raises(UndefinedError):
                render(NotificationKind.SECURITY_INCIDENT, missing)


def test_a_shutdown_says_when_and_how_to_leave():
    stop = datetime(2032, 1, 31, 23, 0, tzinfo=UTC)
    message = render(
        NotificationKind.SERVICE_SHUTDOWN,
        {
            "title": "Accord Photos is closing",
            "message": "Thank you for ten years.",
            "shutdown_at": stop.isoformat(),
        },
    )
    assert message.subject == "Accord Photos is closing"
    assert "Thank you for ten years." in message.body
    assert "2032-01-31" in message.body and "export" in message.body


def test_text_is_not_html_escaped():
    message = render(NotificationKind.SECURITY_INCIDENT, {**INCIDENT, "impact": "A & B <c>"})
    assert "A & B <c>" in message.body


def test_every_campaign_kind_has_a_template():
    for kind in (
        NotificationKind.POLICY_CHANGE,
        NotificationKind.SECURITY_INCIDENT,
        NotificationKind.SERVICE_SHUTDOWN,
    ):
        assert (TEMPLATES / f"{kind}.txt").is_file(), kind


def test_the_contact_notices_render_what_they_must_say():
    code = render(
        NotificationKind.CONTACT_CODE, {"code": "042917", "what": "e-mail address", "minutes": 15}
    )
    assert "042917" in code.body and "15 minutes" in code.body
    assert "042917" not in code.subject  # the subject stays in the outbox row; the body goes
    for kind, word in (
        (NotificationKind.CONTACT_CHANGED, "changed"),
        (NotificationKind.CONTACT_REMOVED, "removed"),
    ):
        notice = render(
            kind, {"what": "phone number", "old": "+33612345678", "changed_at": "2031-01-01"}
        )
        assert word in notice.subject and "+33612345678" in notice.body
