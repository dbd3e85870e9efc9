"""How errors leave the GraphQL edge.

- A caller's own mistake is a typed ``errors`` entry on the mutation payload (see
  ``api.payloads``); it never becomes a top-level error.
- Validation errors (syntax, unknown field, depth/alias/token limits) are the caller's too
  and pass through, minus field suggestions ("Did you mean ...?") in prod.
- ``ClientError`` (a typed code for top-level errors, e.g. FORBIDDEN on a staff query) passes
  through with its code in ``extensions``.
- Stored data that fails its integrity check (``SealedValueUnreadable``) is DATA_UNREADABLE:
  not the caller's mistake, and not masked either, since it says the data was tampered with.
- Anything else is a bug: the client sees "Internal server error" with the request id, and
  the log has the stack trace under the same id.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import structlog
from graphql import ExecutionResult as GraphQLExecutionResult
from graphql.error import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types.execution import ExecutionResult as StrawberryExecutionResult

from models.errors import DomainError
from models.keys.sealed_fields import SealedValueUnreadable

log = structlog.get_logger("accord.graphql")

#: The code of a top-level error for stored data that does not authenticate.
DATA_UNREADABLE = "DATA_UNREADABLE"

SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")


class ClientError(Exception):
    """A top-level error whose code a client may rely on."""

    def __init__(self, code: str, message: str, *, factors: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.code = code
        #: For REAUTHENTICATION_REQUIRED: what ``stepUp`` takes (``extensions.factors``).
        self.factors = factors


def _is_expected(error: GraphQLError) -> bool:
    if error.path is None:
        # Before execution: the document or its variables did not fit the schema, even
        # when a scalar's parser said why with its own exception ("a ConsentSyncEvent is a
        # JSON object"). Only a resolver's error has a path.
        return True
    original = error.original_error
    return original is None or isinstance(original, (ClientError, DomainError, GraphQLError))


def request_id() -> str | None:
    return structlog.contextvars.get_contextvars().get("request_id")


def _unreadable(error: GraphQLError, original: SealedValueUnreadable) -> GraphQLError:
    """Stored data that failed its integrity check (changed on disk, or moved between rows):
    the caller is told plainly, and gets no value rather than a wrong one; the log names
    the row (table, column, id), never its content."""
    log.error("stored value failed its integrity check", where=original.where, path=error.path)
    return _withheld(
        error, "Stored data failed its integrity check and cannot be shown", DATA_UNREADABLE
    )


def _withheld(error: GraphQLError, message: str, code: str) -> GraphQLError:
    """The error in place of what went wrong: a message, a code and the request id to
    quote, nothing of the exception itself (the log has it under the same id)."""
    rid = request_id()
    return GraphQLError(
        f"{message} (request id {rid}).",
        nodes=error.nodes,
        path=error.path,
        original_error=None,
        extensions={"code": code, "requestId": rid},
    )


def error_policy(hide_suggestions: bool) -> type[SchemaExtension]:
    """The extension class for this deployment (classes, not instances, go to Schema)."""

    class ErrorPolicy(SchemaExtension):
        def on_operation(self) -> Iterator[None]:
            yield
            self._process_result(self.execution_context.result)

        def on_stream_result(self, result: object) -> Iterator[None]:
            """Subscription messages never end the operation: each is processed here."""
            self._process_result(result)
            yield

        def _process_result(self, result: object) -> None:
            if isinstance(result, (GraphQLExecutionResult, StrawberryExecutionResult)):
                if result.errors:
                    result.errors = [self._process(e) for e in result.errors]

        def _process(self, error: GraphQLError) -> GraphQLError:
            if isinstance(error.original_error, SealedValueUnreadable):
                return _unreadable(error, error.original_error)
            if not _is_expected(error):
                log.error(
                    "unexpected error in resolver",
                    path=error.path,
                    exc_info=error.original_error,
                )
                return _withheld(error, "Internal server error", "INTERNAL_SERVER_ERROR")
            extensions = dict(error.extensions or {})
            original = error.original_error
            if isinstance(original, (ClientError, DomainError)):
                extensions["code"] = str(original.code)
            if isinstance(original, DomainError) and original.field:
                extensions["field"] = original.field
            if isinstance(original, (ClientError, DomainError)) and original.factors:
                extensions["factors"] = [str(f) for f in original.factors]
            message = error.message
            if hide_suggestions:
                message = SUGGESTION.sub("", message)
            if message == error.message and extensions == (error.extensions or {}):
                return error
            return GraphQLError(
                message,
                nodes=error.nodes,
                source=error.source,
                positions=error.positions,
                path=error.path,
                original_error=original,
                extensions=extensions or None,
            )

    return ErrorPolicy
