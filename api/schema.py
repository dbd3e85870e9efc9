"""The root schema: it only stitches the domains together."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import StreamResult
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext
from strawberry.types.graphql import OperationType

from accord.settings import Settings
from api.accounts.contact_mutations import ContactMutations
from api.accounts.deletion_mutations import DeletionQueueMutations
from api.accounts.factor_mutations import SecondFactorMutations
from api.accounts.minor_mutations import MinorMutations
from api.accounts.mutations import AccountMutations
from api.accounts.passkey_mutations import PasskeyMutations
from api.accounts.queries import AccountQueries
from api.arguments import guard_arguments
from api.consent.inputs import CONSENT_SYNC_EVENT, ConsentSyncEvent
from api.consent.mutations import ConsentMutations
from api.consent.queries import ConsentQueries
from api.consent.subscriptions import ConsentSubscriptions
from api.context import Context
from api.errors import error_policy
from api.execution import PlainFieldsExecutor
from api.limits import query_guards
from api.nodes import NodeQueries
from api.notifications.campaign_mutations import CampaignMutations
from api.notifications.mutations import NotificationMutations
from api.notifications.queries import NotificationQueries
from api.notifications.subscriptions import NotificationSubscriptions
from api.personal.mutations import PersonalDataMutations
from api.personal.queries import PersonalDataQueries
from api.rights.deadline_mutations import DeadlineMutations
from api.rights.export_mutations import ExportMutations
from api.rights.identity_mutations import IdentityMutations
from api.rights.mutations import RightsMutations
from api.rights.queries import RightsQueries
from api.webhooks.mutations import WebhookMutations
from api.webhooks.queries import WebhookQueries

# Each domain's fields in one class per root type; the order here is the order of the
# fields in ``schema.graphql``.
Query = merge_types(
    "Query",
    (
        NodeQueries,
        AccountQueries,
        ConsentQueries,
        PersonalDataQueries,
        NotificationQueries,
        RightsQueries,
        WebhookQueries,
    ),
)
Mutation = merge_types(
    "Mutation",
    (
        AccountMutations,
        ContactMutations,
        SecondFactorMutations,
        PasskeyMutations,
        DeletionQueueMutations,
        MinorMutations,
        ConsentMutations,
        PersonalDataMutations,
        NotificationMutations,
        CampaignMutations,
        RightsMutations,
        IdentityMutations,
        DeadlineMutations,
        ExportMutations,
        WebhookMutations,
    ),
)
Subscription = merge_types("Subscription", (ConsentSubscriptions, NotificationSubscriptions))


class AccordSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Unexpected errors are logged once, with the request id, by ``ErrorPolicy``."""

    async def stream(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        operation_extensions: dict[str, Any] | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
    ) -> StreamResult:
        """Every operation sent over a websocket (queries and mutations too, not only
        subscriptions) comes through here with the connection's one context: each gets a
        copy of its own that reads the session afresh, so an open connection stops acting
        for a session as soon as it ends, as a new HTTP request would."""
        if isinstance(context_value, Context):
            context_value = context_value.for_operation()
        return await super().stream(
            query,
            variable_values=variable_values,
            context_value=context_value,
            root_value=root_value,
            operation_name=operation_name,
            operation_extensions=operation_extensions,
            allowed_operation_types=allowed_operation_types,
        )


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
