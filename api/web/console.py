"""The staff console, ``/console``: the job queue, deletions, campaigns, data requests and
security incidents, read with the functions the staff queries of GraphQL read them with,
for the roles those queries allow (``api.permissions``). It shows ids, never a user's name
or address. The overview and campaign progress refresh themselves from ``/console/live``
(``web.js`` polls it).

Operator actions (retry or postpone a deletion, resume or cancel a campaign) are the
``ConsoleAction`` entries of ``ACTIONS``: each renders as a form (POST with the CSRF token)
on its page's rows and calls the ``models`` function its GraphQL mutation calls, which
writes the staff audit entry.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from api.permissions import OPERATIONS, PRIVACY_OFFICE
from api.web.pages import Web, action, view, when
from api.web.security import CONSOLE
from api.web.sign_in import sign_in_routes
from models import clock
from models.accounts.account import Role
from models.accounts.errors import AccountErrorCode
from models.errors import DomainError
from models.notifications import authority_reports, campaigns
from models.notifications.campaign_actions import cancel_campaign, is_stalled, resume_campaign
from models.notifications.campaigns import UNFINISHED, Campaign, CampaignStatus, SecurityIncident
from models.notifications.channel_progress import progress_by_channel
from models.operations.overview import overview as operations_overview
from models.rights import deadlines
from models.rights.deletion_queue import (
    OWED,
    deletion_queue,
    postpone_deletion,
    retry_deletion,
)
from models.rights.requests import (
    CLOCKED_STATUSES,
    DataRequest,
    DeletionRequest,
    DeletionStatus,
)

LISTED = 100
CAMPAIGNS_LISTED = 20


@dataclass(frozen=True)
class ConsoleAction:
    """One operator action on a row of a console page (a deletion, a campaign)."""

    #: The last segment of its address: ``/console/<page>/<row id>/<name>``.
    name: str
    label: str
    #: Which rows offer it (a FAILED deletion, a stalled campaign...).
    applies: Callable[[Any], bool]
    #: Does it, audited by the ``models`` function it calls: (web, row id, reason).
    run: Callable[[Web, int, str], Awaitable[None]]
    roles: tuple[Role, ...] = OPERATIONS
    #: The notice shown after it (``NOTICES``).
    done: str = "done"
    #: Whether its form asks for a date (``until``, UTC) beside the reason.
    asks_until: bool = False


def _until(web: Web) -> datetime:
    """The form's ``until`` (a ``datetime-local`` value, read as UTC)."""
    raw = web.field("until")
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise DomainError(AccountErrorCode.INVALID, "until", "give a date and time") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


async def _retry(web: Web, row_id: int, reason: str) -> None:
    await retry_deletion(web.account, row_id, web.ctx.queue, reason or None)


async def _postpone(web: Web, row_id: int, reason: str) -> None:
    await postpone_deletion(web.account, row_id, _until(web), reason, web.settings)


async def _resume(web: Web, row_id: int, reason: str) -> None:
    await resume_campaign(web.account, row_id, web.ctx.queue, web.settings)


async def _cancel(web: Web, row_id: int, reason: str) -> None:
    await cancel_campaign(web.account, row_id, reason)


def _retryable(row: DeletionRequest) -> bool:
    """Offered where ``retry_deletion`` would act: past the grace period, not running."""
    waiting = row.status in (DeletionStatus.FAILED, DeletionStatus.PENDING)
    return waiting and row.due_at <= clock.now()


#: The actions of each page, by name: each is the ``models`` function its GraphQL mutation
#: calls (``retryDeletion``, ``postponeDeletion``, ``resumeCampaign``, ``cancelCampaign``),
#: which checks the role, refuses with a typed error and writes the staff audit entry.
ACTIONS: dict[str, dict[str, ConsoleAction]] = {
    "deletions": {
        "retry": ConsoleAction("retry", "Retry now", _retryable, _retry),
        "postpone": ConsoleAction(
            "postpone",
            "Postpone",
            lambda row: row.status in (DeletionStatus.PENDING, DeletionStatus.FAILED),
            _postpone,
            asks_until=True,
        ),
    },
    "campaigns": {
        "resume": ConsoleAction("resume", "Resume", lambda row: row.stalled, _resume),
        "cancel": ConsoleAction(
            "cancel", "Cancel", lambda row: row.campaign.status in UNFINISHED, _cancel
        ),
    },
}

NOTICES = {"done": "Done: the action is recorded in the staff audit log."}


def _offered(web: Web, page: str) -> list[ConsoleAction]:
    return [a for a in ACTIONS[page].values() if web.account.holds_role(*a.roles)]


# --- overview ----------------------------------------------------------------------------------


async def _overview(web: Web) -> dict[str, Any]:
    """The operators' one overview (``models.operations.overview``, which ``queueStatus``,
    ``/metrics`` and ``accord status`` read too): the queue, the workers' heartbeats, the
    sweeper's last run, and the owed work. A half whose store is unreachable shows as
    unknown."""
    seen = await operations_overview(web.ctx.stats)
    queue, owed = seen.queue, seen.backlog
    return {
        "redis": queue is not None,
        "queued": queue.queued if queue else None,
        "in_progress": queue.in_progress if queue else None,
        "failed_last_hour": queue.failed_last_hour if queue else None,
        "oldest_queued_seconds": round(queue.oldest_queued_seconds) if queue else None,
        "by_function": dict(sorted(queue.by_function.items())) if queue else {},
        "workers": [
            {
                "id": w.id,
                "last_seen": when(datetime.fromtimestamp(w.last_seen, UTC)),
                "running": w.running,
            }
            for w in (queue.workers if queue else [])
        ],
        "last_sweep": when(queue.last_sweep_at) if queue else None,
        "database": owed is not None,
        "deletions": {
            "pending": owed.deletions.pending,
            "overdue": owed.deletions.overdue,
            "failed": owed.deletions.failed,
        }
        if owed
        else {},
        "campaigns_running": owed.campaigns.pending if owed else None,
    }


@view(CONSOLE, roles=OPERATIONS)
async def overview_page(web: Web) -> Response:
    return web.render("console_overview.html", "Overview", overview=await _overview(web))


# --- deletions -------------------------------------------------------------------------------


@view(CONSOLE, roles=OPERATIONS)
async def deletions_page(web: Web) -> Response:
    """``deletionQueue``'s rows: waiting with their due dates, running, failed with error
    and attempts; accounts by id only."""
    rows = (await deletion_queue(OWED, LISTED))[:LISTED]
    return web.render(
        "console_deletions.html",
        "Deletions",
        notices=NOTICES,
        groups=[(status, [r for r in rows if r.status == status]) for status in OWED],
        actions=_offered(web, "deletions"),
    )


# --- campaigns -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    label: str
    settled: int
    created: int

    @property
    def percent(self) -> int:
        return round(100 * self.settled / self.created) if self.created else 0

    def live(self) -> dict[str, int]:
        """As ``web.js`` reads it."""
        return {"value": self.settled, "max": self.created, "percent": self.percent}


async def _bars(row: Campaign) -> tuple[Bar, list[Bar]]:
    """The campaign's bar (``campaigns.progress``): messages settled (sent or failed for
    good) out of those written, or out of the audience while the fan-out is still writing
    them (one message at least per account); and one bar per channel
    (``progress_by_channel``), out of the messages written for it."""
    counts = await campaigns.progress(row.id)
    settled = counts["delivered"] + counts["failed"]
    overall = Bar("All channels", settled, max(counts["created"], row.total))
    if row.status == CampaignStatus.DONE and not overall.created:
        overall = Bar("All channels", 1, 1)
    channels = [
        Bar(channel, c["delivered"] + c["failed"], c["created"])
        for channel, c in (await progress_by_channel(row.id)).items()
    ]
    return overall, channels


@dataclass(frozen=True)
class CampaignRow:
    campaign: Campaign
    overall: Bar
    channels: list[Bar]
    #: No progress for ``ACCORD_CAMPAIGN_STALL_MINUTES`` (``campaign_actions.is_stalled``).
    stalled: bool


async def _campaigns(web: Web) -> list[CampaignRow]:
    rows = await Campaign.all().order_by("-id").limit(CAMPAIGNS_LISTED)
    listed = []
    for row in rows:
        overall, channels = await _bars(row)
        stalled = await is_stalled(row, web.settings)
        listed.append(CampaignRow(row, overall, channels, stalled))
    return listed


@view(CONSOLE, roles=OPERATIONS)
async def campaigns_page(web: Web) -> Response:
    return web.render(
        "console_campaigns.html",
        "Campaigns",
        notices=NOTICES,
        campaigns=await _campaigns(web),
        stall_minutes=web.settings.campaign_stall_minutes,
        actions=_offered(web, "campaigns"),
    )


@view(CONSOLE, roles=OPERATIONS)
async def live(web: Web) -> Response:
    """What the overview and campaigns pages refresh (``web.js`` polls it)."""
    return JSONResponse(
        {
            "overview": await _overview(web),
            "campaigns": {
                str(row.campaign.id): {
                    "status": row.campaign.status.value,
                    "stalled": "stalled" if row.stalled else "",
                    "bars": {bar.label: bar.live() for bar in (row.overall, *row.channels)},
                }
                for row in await _campaigns(web)
            },
        }
    )


# --- data requests and incidents: the privacy office -----------------------------------------


@view(CONSOLE, roles=PRIVACY_OFFICE)
async def data_requests_page(web: Web) -> Response:
    """``dataRequests``: those whose clock runs, soonest due first, with the days left and
    the urgency their due date gives now (``deadlines.urgency_at``); accounts by id."""
    moment = clock.now()
    rows = (
        await DataRequest.filter(status__in=list(CLOCKED_STATUSES), due_at__isnull=False)
        .order_by("due_at", "id")
        .limit(LISTED)
    )
    listed = []
    for row in rows:
        assert row.due_at is not None  # filtered
        urgency = deadlines.urgency_at(row.due_at, moment, web.settings)
        listed.append((row, (row.due_at - moment).days, urgency.value))
    return web.render(
        "console_data_requests.html",
        "Data requests",
        requests=listed,
        figures=await deadlines.open_figures(web.settings),
    )


@view(CONSOLE, roles=PRIVACY_OFFICE)
async def incidents_page(web: Web) -> Response:
    """With the clock of each one's report to the supervisory authority (urgency now,
    ``authority_reports.urgency_of``) until it is recorded (``recordAuthorityReport``)."""
    rows = await SecurityIncident.all().order_by("-id").limit(LISTED)
    urgencies = {}
    for row in rows:
        urgency = authority_reports.urgency_of(row, web.settings)
        urgencies[row.id] = urgency.value if urgency is not None else ""
    return web.render(
        "console_incidents.html", "Security incidents", incidents=rows, urgencies=urgencies
    )


# --- operator actions --------------------------------------------------------------------------


def _action_endpoint(page: str, shows: Any) -> Any:
    @action(CONSOLE, shows=shows, roles=OPERATIONS)
    async def run(web: Web) -> Response:
        chosen = ACTIONS[page].get(web.request.path_params["name"])
        raw = web.request.path_params["row_id"]
        if chosen is None or not raw.isdigit() or not web.account.holds_role(*chosen.roles):
            raise DomainError(AccountErrorCode.NOT_FOUND, None, "no such action here")
        await chosen.run(web, int(raw), web.field("reason"))
        return web.redirect(f"/{page}", chosen.done)

    return run


def console_routes() -> list[BaseRoute]:
    get, path = ["GET", "HEAD"], CONSOLE.path
    return [
        *sign_in_routes(CONSOLE),
        Route(path, overview_page, methods=get),
        Route(f"{path}/", overview_page, methods=get),
        Route(f"{path}/live", live, methods=get),
        Route(f"{path}/deletions", deletions_page, methods=get),
        Route(f"{path}/campaigns", campaigns_page, methods=get),
        Route(f"{path}/data-requests", data_requests_page, methods=get),
        Route(f"{path}/incidents", incidents_page, methods=get),
        Route(
            f"{path}/deletions/{{row_id}}/{{name}}",
            _action_endpoint("deletions", deletions_page),
            methods=["POST"],
        ),
        Route(
            f"{path}/campaigns/{{row_id}}/{{name}}",
            _action_endpoint("campaigns", campaigns_page),
            methods=["POST"],
        ),
    ]
