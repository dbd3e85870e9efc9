"""``erase_shutdown_scope``: the job that deletes what one due service shutdown's scope
held. It carries only the shutdown's id; the cursor, the counts and the rules are in
``models.rights.shutdowns.erase_scope`` (resumable, idempotent: safe to run twice or at
once, and to kill at any point).
"""

from __future__ import annotations

from typing import Any

import structlog

from models.rights.shutdowns import erase_scope

log = structlog.get_logger("accord.shutdowns")


async def erase_shutdown_scope(ctx: dict[str, Any], shutdown_id: int) -> int:
    deleted = await erase_scope(shutdown_id, ctx["settings"].shutdown_batch_size)
    log.info("erase_shutdown_scope", shutdown_id=shutdown_id, deleted=deleted)
    return deleted
