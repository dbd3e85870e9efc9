"""Per-request batch loaders for the personal-data lists (no query per row)."""

from __future__ import annotations

from strawberry.dataloader import DataLoader

from models.personal.pictures import Picture
from models.personal.support import SupportMessage


async def _pictures(feedback_ids: list[int]) -> list[list[Picture]]:
    found: dict[int, list[Picture]] = {}
    for picture in await Picture.filter(feedback_id__in=list(set(feedback_ids))).order_by(
        "created_at"
    ):
        if picture.feedback_id is not None:  # the filter above asked for these ids
            found.setdefault(picture.feedback_id, []).append(picture)
    return [found.get(i, []) for i in feedback_ids]


async def _messages(thread_ids: list[int]) -> list[list[SupportMessage]]:
    found: dict[int, list[SupportMessage]] = {}
    for message in await SupportMessage.filter(thread_id__in=list(set(thread_ids))).order_by("id"):
        found.setdefault(message.thread_id, []).append(message)
    return [found.get(i, []) for i in thread_ids]


class PersonalLoaders:
    def __init__(self) -> None:
        self.pictures_of_feedback = DataLoader(load_fn=_pictures)
        self.messages_of_thread = DataLoader(load_fn=_messages)
