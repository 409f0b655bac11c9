"""Request-level checks DynamoDB makes before looking inside any expression."""
from __future__ import annotations

from wireapi.errors import ValidationException


def validate_expression_params(request: dict, expression_fields: tuple[str, ...],
                               legacy_fields: tuple[str, ...]) -> None:
    """`expression_fields` / `legacy_fields` in DynamoDB's order for the
    operation, e.g. ("UpdateExpression", "ConditionExpression") and
    ("AttributeUpdates", "Expected")."""
    used = [f for f in expression_fields if request.get(f) is not None]
    if used:
        legacy = list(legacy_fields)
        # KeyConditions alone is allowed with the other expressions.
        if "KeyConditions" in legacy and request.get("KeyConditionExpression") is None:
            legacy.remove("KeyConditions")
        mixed = [f for f in legacy if request.get(f) is not None]
        if mixed:
            raise ValidationException(
                "Can not use both expression and non-expression parameters in the same request: "
                f"Non-expression parameters: {{{', '.join(mixed)}}} "
                f"Expression parameters: {{{', '.join(used)}}}")
    if request.get("ExpressionAttributeNames") is not None and not used:
        raise ValidationException("ExpressionAttributeNames can only be specified when using expressions")
    with_values = [f for f in expression_fields if f != "ProjectionExpression"]
    if with_values and request.get("ExpressionAttributeValues") is not None \
            and all(request.get(f) is None for f in with_values):
        verb = "are" if len(with_values) > 1 else "is"
        raise ValidationException(
            "ExpressionAttributeValues can only be specified when using expressions: "
            f"{' and '.join(with_values)} {verb} null")
