"""Saving an edited item only if it is unchanged since it was loaded.

The edit page carries the item as it was loaded. Saving turns the difference
into one UpdateItem (SET what changed or is new, REMOVE what was dropped)
whose condition is that every attribute still has its loaded value and every
new attribute is still absent. If someone else (another administrator, an
application) changed the item meanwhile, DynamoDB refuses the write with
ConditionalCheckFailedException and nothing is overwritten. An attribute
another writer added that this edit does not touch survives the save.

A changed key moves the item: one TransactWriteItems puts the new item (if
no item has that key) and deletes the old one under the same condition.
"""
from __future__ import annotations

import re
from typing import Any

# DynamoDB's limit on one expression's length; a longer "unchanged" condition
# is narrowed to the attributes the edit touches (see _condition).
EXPRESSION_LIMIT = 4096


class Placeholders:
    def __init__(self) -> None:
        self.names: dict[str, str] = {}
        self.values: dict[str, Any] = {}
        self._by_name: dict[str, str] = {}

    def name(self, attribute: str) -> str:
        if attribute not in self._by_name:
            placeholder = f"#a{len(self._by_name)}"
            self._by_name[attribute] = placeholder
            self.names[placeholder] = attribute
        return self._by_name[attribute]

    def value(self, value: Any) -> str:
        placeholder = f":v{len(self.values)}"
        self.values[placeholder] = value
        return placeholder

    def copy(self) -> "Placeholders":
        other = Placeholders()
        other.names, other.values, other._by_name = dict(self.names), dict(self.values), dict(self._by_name)
        return other

    def adopt(self, other: "Placeholders") -> None:
        self.names, self.values, self._by_name = other.names, other.values, other._by_name

    def into(self, request: dict[str, Any]) -> dict[str, Any]:
        if self.names:
            request["ExpressionAttributeNames"] = self.names
        if self.values:
            request["ExpressionAttributeValues"] = self.values
        return request


def _unchanged(p: Placeholders, loaded: dict[str, Any], names: list[str], added: list[str]) -> str:
    parts = [f"{p.name(n)} = {p.value(loaded[n])}" for n in names]
    parts += [f"attribute_not_exists({p.name(n)})" for n in added]
    return " AND ".join(parts)


def _condition(p: Placeholders, loaded: dict[str, Any], touched: set[str], key_names: list[str],
               added: list[str]) -> str:
    """Every loaded attribute unchanged and every added one absent; if that is longer than
    DynamoDB allows, only the key and the attributes this edit touches."""
    trial = p.copy()
    text = _unchanged(trial, loaded, sorted(loaded), added)
    if len(text) <= EXPRESSION_LIMIT:
        p.adopt(trial)
        return text
    narrowed = [n for n in key_names if n in loaded] + sorted((touched & set(loaded)) - set(key_names))
    return _unchanged(p, loaded, narrowed, added)


def key_of(item: dict[str, Any], key_names: list[str]) -> dict[str, Any]:
    return {n: item[n] for n in key_names if n in item}


def save_request(table: str, key_names: list[str], loaded: dict[str, Any],
                 edited: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """(operation, request) that saves `edited` over `loaded`; None when nothing changed."""
    old_key, new_key = key_of(loaded, key_names), key_of(edited, key_names)
    if new_key != old_key:
        p = Placeholders()
        condition = _condition(p, loaded, set(loaded), key_names, [])
        put_names = {"#k": key_names[0]}
        return "TransactWriteItems", {"TransactItems": [
            {"Put": {"TableName": table, "Item": edited, "ConditionExpression": "attribute_not_exists(#k)",
                     "ExpressionAttributeNames": put_names}},
            {"Delete": p.into({"TableName": table, "Key": old_key, "ConditionExpression": condition})},
        ]}
    changed = [n for n in edited if n not in key_names and loaded.get(n) != edited[n]]
    removed = [n for n in loaded if n not in key_names and n not in edited]
    if not changed and not removed:
        return None
    p = Placeholders()
    actions = []
    if changed:
        actions.append("SET " + ", ".join(f"{p.name(n)} = {p.value(edited[n])}" for n in changed))
    if removed:
        actions.append("REMOVE " + ", ".join(p.name(n) for n in removed))
    added = [n for n in changed if n not in loaded]
    condition = _condition(p, loaded, set(changed) | set(removed), key_names, added)
    return "UpdateItem", p.into({"TableName": table, "Key": old_key, "UpdateExpression": " ".join(actions),
                                 "ConditionExpression": condition})


def create_request(table: str, key_names: list[str], item: Any) -> dict[str, Any]:
    """PutItem that never overwrites: an existing key is the administrator's mistake to see."""
    return {"TableName": table, "Item": item, "ConditionExpression": "attribute_not_exists(#k)",
            "ExpressionAttributeNames": {"#k": key_names[0]}}


def cancellation_reasons(message: str | None) -> list[str]:
    """The per-item codes of a TransactionCanceledException ("… [ConditionalCheckFailed, None]")."""
    found = re.search(r"\[([^\]]*)\]\s*$", message or "")
    return [r.strip() for r in found.group(1).split(",")] if found else []
