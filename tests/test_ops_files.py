"""The operators' files (issue 18): the Grafana dashboard and the Prometheus alerts name
only metrics ``/metrics`` exports, and the alert rules pass promtool's check and their own
unit tests (ops/prometheus/alerts_test.yml)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.notification_helpers import person, run_worker

OPS = Path(__file__).resolve().parent.parent / "ops"
DASHBOARD = OPS / "grafana" / "accord.json"
ALERTS = OPS / "prometheus" / "alerts.yml"
ALERT_TESTS = OPS / "prometheus" / "alerts_test.yml"
#: The names each metric type's family puts in queries.
SUFFIXES = {
    "counter": ("", "_total"),  # the TYPE line names it with or without _total
    "gauge": ("",),
    "histogram": ("_bucket", "_count", "_sum"),
}


def _exported(text: str) -> set[str]:
    names: set[str] = set()
    for line in text.splitlines():
        match = re.fullmatch(r"# TYPE (\S+) (\S+)", line)
        if match:
            names.update(match.group(1) + suffix for suffix in SUFFIXES[match.group(2)])
    return names


def _named(expr: str) -> set[str]:
    return set(re.findall(r"\baccord_[a-zA-Z0-9_]+", expr))


def _exprs() -> list[tuple[str, str]]:
    dashboard = json.loads(DASHBOARD.read_text())
    found = [
        (f"panel {panel['title']!r}", target["expr"])
        for panel in dashboard["panels"]
        for target in panel["targets"]
    ]
    for group in yaml.safe_load(ALERTS.read_text())["groups"]:
        found += [(f"alert {rule['alert']}", rule["expr"]) for rule in group["rules"]]
    return found


async def test_dashboard_and_alerts_name_only_exported_metrics(gql, client, settings, redis_url):
    await person(gql, "someone.ops")
    await run_worker(settings, redis_url)  # a job ran: its duration is recorded
    exported = _exported((await client.get("/metrics")).text)
    assert "accord_job_duration_seconds_bucket" in exported
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["uid"] and dashboard["title"] and dashboard["panels"]
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in dashboard["panels"]:
        assert panel["targets"], panel["title"]
    exprs = _exprs()
    named = set().union(*(_named(expr) for _, expr in exprs))
    # The dashboard covers what the brief asks of it.
    for wanted in (
        "accord_queue_depth",
        "accord_queue_oldest_job_seconds",
        "accord_deletions_overdue",
        "accord_campaign_seconds_since_progress",
        "accord_job_duration_seconds_bucket",
        "accord_worker_last_seen_timestamp_seconds",
        "accord_request_seconds_count",
    ):
        assert wanted in named, wanted
    for where, expr in exprs:
        unknown = _named(expr) - exported
        assert not unknown, f"{where} names metrics /metrics does not export: {unknown}"


def test_every_alert_has_a_duration_a_severity_and_a_runbook_section():
    runbook = (OPS.parent / "docs" / "operations.md").read_text()
    anchors = {
        re.sub(r"[^a-z0-9 -]", "", heading.strip().lower()).replace(" ", "-")
        for heading in re.findall(r"^#+ (.+)$", runbook, re.MULTILINE)
    }
    for group in yaml.safe_load(ALERTS.read_text())["groups"]:
        for rule in group["rules"]:
            assert rule.get("for"), rule["alert"]
            assert rule["labels"]["severity"] in ("critical", "warning"), rule["alert"]
            url = rule["annotations"]["runbook_url"]
            page, _, anchor = url.partition("#")
            assert page == "docs/operations.md" and anchor in anchors, (rule["alert"], url)


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool (Debian: prometheus)")
def test_promtool_checks_the_rules_and_runs_their_unit_tests():
    for command in (["check", "rules", str(ALERTS)], ["test", "rules", str(ALERT_TESTS)]):
        done = subprocess.run(
            ["promtool", *command], capture_output=True, text=True, timeout=120, check=False
        )
        assert done.returncode == 0, done.stdout + done.stderr
