"""The root schema: it only stitches the domains together."""

from __future__ import annotations

import strawberry
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types

from accord.settings import Settings
from api.accounts.mutations import AccountMutations
from api.accounts.queries import AccountQueries
from api.arguments import guard_arguments
from api.consent.inputs import CONSENT_SYNC_EVENT, ConsentSyncEvent
from api.consent.mutations import ConsentMutations
from api.consent.queries import ConsentQueries
from api.consent.subscriptions import ConsentSubscriptions
from api.errors import error_policy
from api.execution import PlainFieldsExecutor
from api.limits import query_guards
from api.notifications.mutations import NotificationMutations
from api.notifications.queries import NotificationQueries
from api.notifications.subscriptions import NotificationSubscriptions
from api.personal.mutations import PersonalDataMutations
from api.personal.queries import PersonalDataQueries

# Each domain's fields in one class per root type; the order here is the order of the
# fields in ``schema.graphql``.
Query = merge_types(
    "Query", (AccountQueries, ConsentQueries, PersonalDataQueries, NotificationQueries)
)
Mutation = merge_types(
    "Mutation",
    (AccountMutations, ConsentMutations, PersonalDataMutations, NotificationMutations),
)
Subscription = merge_types("Subscription", (ConsentSubscriptions, NotificationSubscriptions))


class AccordSchema(strawberry.Schema):
    def process_errors(self, errors, execution_context=None) -> None:
        """Unexpected errors are logged once, with the request id, by ``ErrorPolicy``."""


def build_schema(settings: Settings) -> strawberry.Schema:
    extensions = [*query_guards(settings), error_policy(hide_suggestions=settings.is_prod)]
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
