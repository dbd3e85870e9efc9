"""A shorter path through graphql-core for objects made only of plain fields.

graphql-core completes every field on its own: a resolve-info tuple, a path, the resolver,
then value completion, about ten calls each. Most of a page (``favorites(first: 50)`` is
some 350 fields) is plain attributes: Strawberry fields without a resolver, arguments or
extensions, returning a scalar, an enum or another such object. For those the outcome is
known in advance, so ``PlainFieldsExecutor`` reads them straight off the source object.

It is only a shortcut, never a second set of rules: whenever a value would need anything
the plan does not cover (a null for a non-null field, a value the scalar refuses, an
awaitable), it drops the object's shortcut and lets graphql-core execute the whole object
again, with its own error messages and paths. Plain fields have no side effects (they are
attribute reads), so running them twice is safe.
"""

from __future__ import annotations

import contextlib
from typing import Any, NamedTuple

from graphql import (
    GraphQLEnumType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    Undefined,
)
from graphql.execution.collect_fields import GroupedFieldSet
from graphql.pyutils import Path
from strawberry.resolvers import is_default_resolver
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

_LEAF, _OBJECT, _LIST, _TYPENAME = 0, 1, 2, 3
#: Directives that ``collect_subfields`` has already applied; any other (``@stream``) needs
#: graphql-core.
_APPLIED_DIRECTIVES = frozenset({"include", "skip"})


class _Bail(Exception):
    """A value the plan does not cover: graphql-core executes the object instead."""


class _Step(NamedTuple):
    response_name: str
    kind: int
    resolve: Any
    non_null: bool
    #: A leaf's output coercion, an object's sub-plan, a list's item step, or a type name.
    complete: Any
    #: An object type's own check that a value is one of it (Strawberry gives one to every
    #: type implementing an interface, such as ``Node``), or None.
    is_type_of: Any = None


def _is_plain_resolver(resolve: Any) -> bool:
    """Strawberry marks the resolver of a field that only reads an attribute."""
    return resolve is not None and is_default_resolver(resolve)


class PlainFieldsExecutor(StrawberryGraphQLCoreExecutionContext):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: One plan (or None: not plain) per grouped field set of this operation. graphql-core
        #: memoises ``collect_subfields``, so every item of a list brings the same set.
        self._plans: dict[int, tuple[GroupedFieldSet, list[_Step] | None]] = {}

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: GroupedFieldSet,
        position_context: Any,
    ) -> Any:
        plan = self._plan(parent_type, grouped_field_set)
        if plan is not None:
            # Anything unusual (a refused value, a raising property) is graphql-core's
            # to judge, from the start of this object.
            with contextlib.suppress(Exception):
                return _complete(plan, source_value, self.is_awaitable)
        return super().execute_fields(
            parent_type, source_value, path, grouped_field_set, position_context
        )

    def _plan(
        self, parent_type: GraphQLObjectType, grouped_field_set: GroupedFieldSet
    ) -> list[_Step] | None:
        key = id(grouped_field_set)
        cached = self._plans.get(key)
        if cached is not None:
            return cached[1]
        plan = self._build_plan(parent_type, grouped_field_set)
        # The set is kept with its plan so that its id cannot be reused while cached.
        self._plans[key] = (grouped_field_set, plan)
        return plan

    def _build_plan(
        self, parent_type: GraphQLObjectType, grouped_field_set: GroupedFieldSet
    ) -> list[_Step] | None:
        # Strawberry always passes a manager; it wraps resolvers only if it holds any.
        if self.middleware_manager is not None and self.middleware_manager.middlewares:
            return None
        plan: list[_Step] = []
        for response_name, field_details_list in grouped_field_set.items():
            node = field_details_list[0].node
            name = node.name.value
            if name == "__typename":
                plan.append(_Step(response_name, _TYPENAME, None, True, parent_type.name))
                continue
            field_def = self.schema.get_field(parent_type, name)
            if field_def is None or field_def.args or node.arguments:
                return None
            if not _is_plain_resolver(field_def.resolve):
                return None
            if any(d.name.value not in _APPLIED_DIRECTIVES for d in node.directives or ()):
                return None
            step = self._step(response_name, field_def.resolve, field_def.type, field_details_list)
            if step is None:
                return None
            plan.append(step)
        return plan

    def _step(
        self, response_name: str, resolve: Any, field_type: Any, field_details_list: Any
    ) -> _Step | None:
        non_null = isinstance(field_type, GraphQLNonNull)
        if non_null:
            field_type = field_type.of_type
        if isinstance(field_type, (GraphQLScalarType, GraphQLEnumType)):
            return _Step(response_name, _LEAF, resolve, non_null, field_type.coerce_output_value)
        if isinstance(field_type, GraphQLObjectType):
            grouped, defer_usages, forbidden = self.collect_subfields(
                field_type, field_details_list
            )
            if defer_usages or forbidden:
                return None
            sub_plan = self._plan(field_type, grouped)
            return (
                None
                if sub_plan is None
                else _Step(
                    response_name, _OBJECT, resolve, non_null, sub_plan, field_type.is_type_of
                )
            )
        if isinstance(field_type, GraphQLList):
            item = self._step(response_name, None, field_type.of_type, field_details_list)
            if item is None or item.kind == _LIST:  # lists of lists stay with graphql-core
                return None
            return _Step(response_name, _LIST, resolve, non_null, item)
        return None  # abstract types keep graphql-core's own handling


def _complete(plan: list[_Step], source: Any, is_awaitable: Any) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for response_name, kind, resolve, non_null, complete, is_type_of in plan:
        if kind == _TYPENAME:
            result[response_name] = complete
            continue
        value = resolve(source, None)
        if is_awaitable(value):
            raise _Bail
        if value is None:
            if non_null:
                raise _Bail
            result[response_name] = None
        elif kind == _LEAF:
            result[response_name] = _leaf(complete, value)
        elif kind == _OBJECT:
            result[response_name] = _object(complete, is_type_of, value, is_awaitable)
        else:
            result[response_name] = _list(complete, value, is_awaitable)
    return result


def _leaf(coerce: Any, value: Any) -> Any:
    coerced = coerce(value)
    if coerced is None or coerced is Undefined:
        raise _Bail
    return coerced


def _list(item: _Step, values: Any, is_awaitable: Any) -> list[Any]:
    if not isinstance(values, (list, tuple)):  # iterators and async iterables: graphql-core
        raise _Bail
    completed: list[Any] = []
    for value in values:
        if value is None:
            if item.non_null:
                raise _Bail
            completed.append(None)
        elif is_awaitable(value):
            raise _Bail
        elif item.kind == _LEAF:
            completed.append(_leaf(item.complete, value))
        else:
            completed.append(_object(item.complete, item.is_type_of, value, is_awaitable))
    return completed


def _object(plan: list[_Step], is_type_of: Any, value: Any, is_awaitable: Any) -> dict[str, Any]:
    # graphql-core asks ``is_type_of(value, info)``; Strawberry's reads only the value (an
    # answer that is not a plain True, an awaitable included, is graphql-core's to handle).
    if is_type_of is not None and is_type_of(value, None) is not True:
        raise _Bail
    return _complete(plan, value, is_awaitable)
