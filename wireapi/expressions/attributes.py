"""ExpressionAttributeNames / ExpressionAttributeValues of one request.

Validated once per request (in DynamoDB's order) and shared by every expression
of that request, so the "unused" check sees what all of them referenced.
"""
from __future__ import annotations

import re

from wireapi import errors
from wireapi.errors import ValidationException

_NAME_KEY = re.compile(r"#[0-9a-zA-Z_]+")
_VALUE_KEY = re.compile(r":[0-9a-zA-Z_]+")


def utf8_size(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


def check_expression_size(text: str, kind: str) -> None:
    """DynamoDB's 4 KB per expression, before any parsing: a len() on the hot path."""
    if len(text) > errors.MAX_EXPRESSION_BYTES // 4:
        size = utf8_size(text)
        if size > errors.MAX_EXPRESSION_BYTES:
            raise errors.expression_too_large(kind, size)


def _check_key_length(param: str, key: str) -> None:
    if len(key) > errors.MAX_PLACEHOLDER_BYTES // 4 and utf8_size(key) > errors.MAX_PLACEHOLDER_BYTES:
        raise errors.placeholder_too_long(param, utf8_size(key))


class ExpressionAttributes:
    def __init__(self, names: dict | None, values: dict | None) -> None:
        self.names: dict[str, str] = names or {}
        self.values: dict[str, dict] = {}
        self._unused_names = dict.fromkeys(self.names)
        self._unused_values: dict[str, None] = {}
        # Each name takes at least 3 bytes ("#a" and "a"), each value 2 (":a"): more
        # of them are over the 2 MB of substitutions before any is looked at.
        if (names and len(names) > errors.MAX_SUBSTITUTION_BYTES // 3) or \
                (values and len(values) > errors.MAX_SUBSTITUTION_BYTES // 2):
            raise ValidationException(errors.SUBSTITUTIONS_TOO_LARGE)
        if names is not None:
            if not names:
                raise ValidationException("ExpressionAttributeNames must not be empty")
            for key in names:
                _check_key_length("ExpressionAttributeNames", key)
                if not _NAME_KEY.fullmatch(key):
                    raise ValidationException(
                        f'ExpressionAttributeNames contains invalid key: Syntax error; key: "{key}"')
        if values is not None:
            if not values:
                raise ValidationException("ExpressionAttributeValues must not be empty")
            for key in values:
                _check_key_length("ExpressionAttributeValues", key)
                if not _VALUE_KEY.fullmatch(key):
                    raise ValidationException(
                        f'ExpressionAttributeValues contains invalid key: Syntax error; key: "{key}"')
            from wireapi.values import validate_value  # lazy: sibling module built in parallel

            for key, raw in values.items():
                try:
                    self.values[key] = validate_value(raw)
                except ValidationException as exc:
                    raise ValidationException(
                        f"ExpressionAttributeValues contains invalid value: {exc.message} for key {key}"
                    ) from None
            self._unused_values = dict.fromkeys(values)
        if names or values:
            self._check_total_size()

    def _check_total_size(self) -> None:
        """The documented 2 MB of all substitution variables of a request (a 16 MB
        request could otherwise carry 16 MB of them into every expression)."""
        from wireapi.values import value_size

        total = sum(utf8_size(k) + (utf8_size(v) if isinstance(v, str) else 0) for k, v in self.names.items())
        total += sum(len(k) + value_size(v) for k, v in self.values.items())
        if total > errors.MAX_SUBSTITUTION_BYTES:
            raise ValidationException(errors.SUBSTITUTIONS_TOO_LARGE)

    def name(self, placeholder: str) -> str | None:
        """The attribute name for #placeholder (marking it used), None if undefined."""
        found = self.names.get(placeholder)
        if found is not None:
            self._unused_names.pop(placeholder, None)
        return found

    def value(self, placeholder: str) -> dict | None:
        found = self.values.get(placeholder)
        if found is not None:
            self._unused_values.pop(placeholder, None)
        return found

    def check_unused(self) -> None:
        """Names are reported before values, as DynamoDB does."""
        if self._unused_names:
            raise ValidationException(
                "Value provided in ExpressionAttributeNames unused in expressions: keys: {"
                + ", ".join(self._unused_names) + "}")
        if self._unused_values:
            raise ValidationException(
                "Value provided in ExpressionAttributeValues unused in expressions: keys: {"
                + ", ".join(self._unused_values) + "}")
