"""Applying an UpdatePlan to an item.

Every SET value is computed from the item as it was before the update, then
the actions run in order. List element removals and SETs past the end of a
list are deferred so that indexes always refer to the original list: removals
run highest index first, then appends in index order.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

from wireapi.errors import ValidationException

from .ast import Arith, Func, Literal, Operand, Path
from .paths import get_path
from .updates import ResolvedAction, UpdatePlan

MISSING_ATTRIBUTE = "The provided expression refers to an attribute that does not exist in the item"
WRONG_TYPE = "An operand in the update expression has an incorrect data type"
INVALID_PATH = "The document path provided in the update expression is invalid for update"
LEGACY_WRONG_TYPE = "Type mismatch for attribute to update"


@dataclass(frozen=True, slots=True)
class UpdateResult:
    item: dict
    updated_paths: list[tuple]


def _values():
    from wireapi import values  # lazy: sibling module built in parallel

    return values


def _resolve(op: Operand, item: dict | None) -> dict:
    if isinstance(op, Literal):
        return op.value
    if isinstance(op, Path):
        found = get_path(item, op.elements)
        if found is None:
            raise ValidationException(MISSING_ATTRIBUTE)
        return found
    if isinstance(op, Arith):
        left = _resolve(op.left, item)
        if "N" not in left:
            raise ValidationException(WRONG_TYPE)
        right = _resolve(op.right, item)
        if "N" not in right:
            raise ValidationException(WRONG_TYPE)
        fn = _values().add_numbers if op.op == "+" else _values().subtract_numbers
        return {"N": fn(left["N"], right["N"])}
    if isinstance(op, Func) and op.name == "if_not_exists":
        found = get_path(item, op.args[0].elements)  # type: ignore[union-attr]
        return found if found is not None else _resolve(op.args[1], item)
    if isinstance(op, Func) and op.name == "list_append":
        left = _resolve(op.args[0], item)
        if "L" not in left:
            raise ValidationException(WRONG_TYPE)
        right = _resolve(op.args[1], item)
        if "L" not in right:
            raise ValidationException(WRONG_TYPE)
        return {"L": left["L"] + right["L"]}
    raise TypeError(op)


class _Updater:
    def __init__(self, item: dict | None, legacy: bool = False) -> None:
        self.wrong_type = LEGACY_WRONG_TYPE if legacy else WRONG_TYPE
        self.item: dict = dict(item or {})
        self._owned: set[str] = set()
        self.removals: dict[int, tuple[list, set[int]]] = {}
        self.appends: dict[int, tuple[list, dict[int, dict]]] = {}

    def parent(self, path: tuple) -> dict | list:
        """The container holding path[-1], copied on first write so the
        caller's item is never mutated."""
        if len(path) == 1:
            return self.item
        head = path[0]
        if head not in self._owned and head in self.item:
            self.item[head] = copy.deepcopy(self.item[head])
            self._owned.add(head)
        holder = get_path(self.item, path[:-1])
        wanted = "L" if isinstance(path[-1], int) else "M"
        if holder is None or wanted not in holder:
            raise ValidationException(INVALID_PATH)
        return holder[wanted]

    def get(self, container: dict | list, key: str | int) -> dict | None:
        if isinstance(container, list):
            return container[key] if key < len(container) else None  # type: ignore[operator]
        return container.get(key)  # type: ignore[arg-type]

    def put(self, container: dict | list, key: str | int, value: dict) -> None:
        if isinstance(container, list):
            if key < len(container):  # type: ignore[operator]
                container[key] = value  # type: ignore[index]
            else:
                self.appends.setdefault(id(container), (container, {}))[1][key] = value  # type: ignore[index]
        else:
            container[key] = value  # type: ignore[index]

    def remove(self, container: dict | list, key: str | int) -> None:
        if isinstance(container, list):
            if key < len(container):  # type: ignore[operator]
                self.removals.setdefault(id(container), (container, set()))[1].add(key)  # type: ignore[arg-type]
        else:
            container.pop(key, None)  # type: ignore[arg-type]

    def add(self, container: dict | list, key: str | int, value: dict) -> None:
        existing = self.get(container, key)
        kind = next(iter(value))
        if existing is not None and kind not in existing:
            raise ValidationException(self.wrong_type)
        if kind == "N":
            total = value["N"] if existing is None else _values().add_numbers(existing["N"], value["N"])
            self.put(container, key, {"N": total})
        elif existing is None:
            self.put(container, key, {kind: list(value[kind])})
        elif kind == "L":  # legacy AttributeUpdates ADD appends to a list
            self.put(container, key, {"L": existing["L"] + value["L"]})
        else:
            present = {_member_key(kind, x) for x in existing[kind]}
            extra = [x for x in value[kind] if _member_key(kind, x) not in present]
            self.put(container, key, {kind: existing[kind] + extra})

    def delete(self, container: dict | list, key: str | int, value: dict) -> None:
        existing = self.get(container, key)
        if existing is None:
            return
        kind = next(iter(value))
        if kind not in existing:
            raise ValidationException(self.wrong_type)
        drop = {_member_key(kind, x) for x in value[kind]}
        kept = [x for x in existing[kind] if _member_key(kind, x) not in drop]
        if kept:
            self.put(container, key, {kind: kept})
        else:
            self.remove(container, key)

    def finish(self) -> dict:
        for container, indexes in self.removals.values():
            for index in sorted(indexes, reverse=True):
                del container[index]
        for container, extra in self.appends.values():
            container.extend(extra[i] for i in sorted(extra))
        return self.item


def _member_key(kind: str, member: str) -> str:
    return _values().normalize_number(member) if kind == "NS" else member


def apply_update(plan: UpdatePlan, item: dict | None, key: dict | None = None) -> UpdateResult:
    """The updated item (a new dict; `item` is left untouched) and the paths
    touched, for ReturnValues UPDATED_OLD / UPDATED_NEW. A missing item starts
    as its `key`, as DynamoDB's does: "SET copy = id" works on a new item."""
    if item is None and key:
        item = dict(key)
    new_values = {i: _resolve(a.value, item) for i, a in enumerate(plan.actions)  # type: ignore[arg-type]
                  if a.kind == "SET"}
    updater = _Updater(item, plan.legacy)
    for i, action in enumerate(plan.actions):
        _apply_one(updater, action, new_values.get(i))
    return UpdateResult(updater.finish(), plan.paths)


def _apply_one(updater: _Updater, action: ResolvedAction, new_value: dict | None) -> None:
    container = updater.parent(action.path)
    key = action.path[-1]
    if action.kind == "SET":
        updater.put(container, key, copy.deepcopy(new_value))  # type: ignore[arg-type]
    elif action.kind == "REMOVE":
        updater.remove(container, key)
    elif action.kind == "ADD":
        updater.add(container, key, action.value.value)  # type: ignore[union-attr]
    else:
        updater.delete(container, key, action.value.value)  # type: ignore[union-attr]
