"""The root schema: it only stitches the domains together."""

from __future__ import annotations

from collections.abc import Callable

import strawberry
from strawberry.extensions import SchemaExtension
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types

from accord.settings import Settings
from api.accounts.cancellation import CancellationMutations, DeletionQueries
from api.accounts.schema import AccountMutations, AccountQueries
from api.arguments import guard_arguments
from api.consent.schema import (
    CONSENT_SYNC_EVENT,
    ConsentMutations,
    ConsentQueries,
    ConsentSubscriptions,
    ConsentSyncEvent,
)
from api.errors import error_policy
from api.execution import PlainFieldsExecutor
from api.limits import query_guards
from api.notifications.schema import (
    NotificationMutations,
    NotificationQueries,
    NotificationSubscriptions,
)
from api.personal.activity import ActivityMutations
from api.personal.favorites import FavoriteMutations
from api.personal.feedback import FeedbackMutations, FeedbackQueries
from api.personal.questionnaires import QuestionnaireMutations, QuestionnaireQueries
from api.personal.support import SupportMutations, SupportQueries

Query = merge_types(
    "Query",
    (
        AccountQueries,
        DeletionQueries,
        ConsentQueries,
        FeedbackQueries,
        SupportQueries,
        QuestionnaireQueries,
        NotificationQueries,
    ),
)
Mutation = merge_types(
    "Mutation",
    (
        AccountMutations,
        CancellationMutations,
        ConsentMutations,
        FavoriteMutations,
        FeedbackMutations,
        SupportMutations,
        QuestionnaireMutations,
        ActivityMutations,
        NotificationMutations,
    ),
)
Subscription = merge_types("Subscription", (ConsentSubscriptions, NotificationSubscriptions))


class AccordSchema(strawberry.Schema):
    def process_errors(self, errors, execution_context=None) -> None:
        """Unexpected errors are logged once, with the request id, by ``ErrorPolicy``."""


def build_schema(settings: Settings) -> strawberry.Schema:
    extensions: list[type[SchemaExtension] | Callable[[], SchemaExtension]] = [
        *query_guards(settings),
        error_policy(hide_suggestions=settings.is_prod),
    ]
    schema = AccordSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions,
        execution_context_class=PlainFieldsExecutor,
        config=StrawberryConfig(
            batching_config={"max_operations": settings.max_operations},
            scalar_map={ConsentSyncEvent: CONSENT_SYNC_EVENT},
        ),
    )
    guard_arguments(schema)
    return schema


def schema_sdl(settings: Settings) -> str:
    """What ``accord export-schema`` writes to ``schema.graphql``."""
    return build_schema(settings).as_str() + "\n"
