"""DynamoDB expressions: condition, filter, key condition, update, projection,
and the legacy parameters they replaced.

Typical use in an operation, after the request's own value checks:

    validate_expression_params(req, ("UpdateExpression", "ConditionExpression"),
                               ("AttributeUpdates", "Expected"))
    exprs = compile_expressions(req)        # placeholders, parse, unused check
    if exprs.condition and not evaluate_condition(exprs.condition, old_item): ...
    result = apply_update(exprs.update, old_item)
"""
from __future__ import annotations

from .apply import UpdateResult, apply_update
from .attributes import ExpressionAttributes
from .conditions import ParsedCondition, parse_condition
from .evaluate import evaluate_condition
from .keycond import KeyCondition, KeyQuery, key_condition_from_key_conditions, parse_key_condition
from .legacy import (
    LegacyCondition, condition_from_expected, condition_from_filter, projection_from_attributes_to_get,
    update_from_attribute_updates,
)
from .params import validate_expression_params
from .paths import get_path, project_paths
from .projection import Projection, parse_projection, project
from .request import RequestExpressions, compile_expressions
from .updates import UpdatePlan, check_index_keys_not_nested, check_key_not_updated, parse_update

Condition = ParsedCondition  # the name the operations use

__all__ = [
    "Condition", "ExpressionAttributes", "KeyCondition", "KeyQuery", "LegacyCondition", "ParsedCondition",
    "Projection", "RequestExpressions", "UpdatePlan", "UpdateResult",
    "apply_update", "check_index_keys_not_nested", "check_key_not_updated", "compile_expressions", "condition_from_expected",
    "condition_from_filter", "evaluate_condition", "get_path", "key_condition_from_key_conditions",
    "parse_condition", "parse_key_condition", "parse_projection", "parse_update", "project",
    "project_paths", "projection_from_attributes_to_get", "update_from_attribute_updates",
    "validate_expression_params",
]
