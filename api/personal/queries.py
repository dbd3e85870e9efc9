"""Query fields of the personal-data domain: public feedback, the support staff's queue and
threads, open questionnaires; and the personal-data fields of ``Account``, which only the
account itself (or an ADMIN) reads."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from api.context import Context
from api.nodes import row_id_of
from api.pagination import Connection, connection, empty, fetch_page
from api.permissions import OWNER_OR_ADMIN, SUPPORT_STAFF, staff_only, visible_to
from api.personal.types import (
    Favorite,
    Feedback,
    PublicFeedback,
    Questionnaire,
    SupportQueueItem,
    SupportThread,
)
from models.personal import favorites, feedback, questionnaires, support


@strawberry.type
class PersonalDataQueries:
    @strawberry.field(description="PUBLIC feedback about a subject, newest first; no sign-in.")
    async def public_feedback(
        self, subject: str, first: int = 20, after: str | None = None
    ) -> Connection[PublicFeedback]:
        query = (await feedback.public_about(subject)).select_related("author")
        rows, more = await fetch_page(query, first, after)
        return connection(rows, more, PublicFeedback.of)

    @strawberry.field(description="SUPPORT: open threads nobody works yet (subjects only).")
    @staff_only(*SUPPORT_STAFF)
    async def support_queue(self, info: Info[Context, None]) -> list[SupportQueueItem]:
        rows = (
            await support.SupportThread.filter(assignee_id=None, status=support.ThreadStatus.OPEN)
            .order_by("id")
            .limit(100)
        )
        return [SupportQueueItem.of(r) for r in rows]

    @strawberry.field(
        description="SUPPORT: a thread you work, with its messages. The read is written to "
        "the staff audit log with `reason` (default: you work the thread). Needs a recent "
        "sign-in (stepUp): REAUTHENTICATION_REQUIRED otherwise."
    )
    @staff_only(*SUPPORT_STAFF, reads_subject_data=True)
    async def support_thread(
        self, info: Info[Context, None], id: strawberry.ID, reason: str | None = None
    ) -> SupportThread | None:
        staff = await info.context.require_viewer()
        thread_id = row_id_of(id, "SupportThread")
        if thread_id is None:
            return None
        row = await support.thread_for_staff(staff, thread_id, reason)
        return SupportThread.of(row) if row else None

    @strawberry.field(description="Questionnaires open for answers.")
    async def questionnaires(self) -> list[Questionnaire]:
        rows = await questionnaires.Questionnaire.filter(active=True).order_by("-id").limit(100)
        return [Questionnaire.of(r) for r in rows]


@strawberry.type
class AccountPersonalFields:
    """Mixed into ``Account``; resolvers read ``self.pk`` (the row id)."""

    @strawberry.field(description="Newest first; `first` is capped at 100.")
    @visible_to(OWNER_OR_ADMIN, otherwise=empty)
    async def favorites(
        self,
        info: Info[Context, None],
        first: int = 20,
        after: str | None = None,
        item_type: str | None = None,
    ) -> Connection[Favorite]:
        query = favorites.Favorite.filter(account_id=self.pk)  # type: ignore[attr-defined]
        if item_type is not None:
            query = query.filter(item_type=item_type)
        rows, more = await fetch_page(query, first, after)
        return connection(rows, more, Favorite.of)

    @strawberry.field(description="Your feedback, public and private, newest first.")
    @visible_to(OWNER_OR_ADMIN, otherwise=empty)
    async def feedback(
        self, info: Info[Context, None], first: int = 20, after: str | None = None
    ) -> Connection[Feedback]:
        query = feedback.Feedback.filter(author_id=self.pk)  # type: ignore[attr-defined]
        rows, more = await fetch_page(query, first, after)
        return connection(rows, more, Feedback.of)

    @strawberry.field(description="Your support correspondence, newest first.")
    @visible_to(OWNER_OR_ADMIN, otherwise=empty)
    async def support_threads(
        self, info: Info[Context, None], first: int = 20, after: str | None = None
    ) -> Connection[SupportThread]:
        query = support.SupportThread.filter(account_id=self.pk)  # type: ignore[attr-defined]
        rows, more = await fetch_page(query, first, after)
        return connection(rows, more, SupportThread.of)
