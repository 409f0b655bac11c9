"""All the expressions of one request, checked in DynamoDB's order.

DynamoDB validates placeholders first, then UpdateExpression,
ConditionExpression, KeyConditionExpression, FilterExpression,
ProjectionExpression, and only then reports unused placeholders.
"""
from __future__ import annotations

from dataclasses import dataclass

from .attributes import ExpressionAttributes
from .conditions import ParsedCondition, parse_condition
from .keycond import KeyCondition, parse_key_condition
from .projection import Projection, parse_projection
from .updates import UpdatePlan, parse_update


@dataclass(frozen=True, slots=True)
class RequestExpressions:
    attrs: ExpressionAttributes
    update: UpdatePlan | None = None
    condition: ParsedCondition | None = None
    key_condition: KeyCondition | None = None
    filter: ParsedCondition | None = None
    projection: Projection | None = None


def compile_expressions(request: dict) -> RequestExpressions:
    """Parse every expression present in `request` (raises ValidationException).
    Key-schema checks of a KeyConditionExpression are left to
    KeyCondition.for_schema once the table is known."""
    attrs = ExpressionAttributes(request.get("ExpressionAttributeNames"),
                                 request.get("ExpressionAttributeValues"))
    text = request.get("UpdateExpression")
    update = parse_update(text, attrs) if text is not None else None
    text = request.get("ConditionExpression")
    condition = parse_condition(text, attrs) if text is not None else None
    text = request.get("KeyConditionExpression")
    key_condition = parse_key_condition(text, attrs) if text is not None else None
    text = request.get("FilterExpression")
    filter_ = parse_condition(text, attrs, "FilterExpression") if text is not None else None
    text = request.get("ProjectionExpression")
    projection = parse_projection(text, attrs) if text is not None else None
    attrs.check_unused()
    return RequestExpressions(attrs, update, condition, key_condition, filter_, projection)
