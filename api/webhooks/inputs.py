"""Inputs of the consent webhook mutations: one ``<MutationName>Input`` each."""

from __future__ import annotations

import strawberry


@strawberry.input(
    description="An https endpoint, the purposes whose consent changes it is told of, and "
    "whether the body may name the subject (by default only a pseudonymous `subjectId`)."
)
class CreateConsentWebhookInput:
    url: str
    purposes: list[str]
    include_personal_data: bool = False


@strawberry.input(description="The consent webhook, by its id.")
class DisableConsentWebhookInput:
    id: strawberry.ID


@strawberry.input(description="The consent webhook, by its id.")
class EnableConsentWebhookInput:
    id: strawberry.ID


@strawberry.input(description="The consent webhook, by its id.")
class DeleteConsentWebhookInput:
    id: strawberry.ID


@strawberry.input(description="The consent webhook, by its id.")
class RotateConsentWebhookSecretInput:
    id: strawberry.ID


@strawberry.input(
    description="Send every event of the endpoint from `fromSequence` on again, under "
    "its own `webhook-id`, whatever became of it."
)
class ReplayConsentWebhookInput:
    id: strawberry.ID
    from_sequence: int
