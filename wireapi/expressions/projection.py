"""ProjectionExpression: parse, check, and apply to items."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from wireapi.errors import invalid_expression

from .ast import NameRef, Path
from .attributes import ExpressionAttributes, check_expression_size
from .parser import parse_projection_tree
from .paths import PathChecker, project_paths
from .reserved import is_reserved
from .tokens import ExpressionSyntaxError

KIND = "ProjectionExpression"


@dataclass(frozen=True, slots=True)
class Projection:
    paths: tuple[tuple, ...]  # resolved document paths, in request order

    @property
    def heads(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(path[0] for path in self.paths))


@lru_cache(maxsize=2048)
def _analyse(text: str) -> tuple[tuple[Path, ...] | None, str | None]:
    try:
        paths = parse_projection_tree(text)
    except ExpressionSyntaxError as exc:
        return None, exc.detail
    for path in paths:
        for element in path.elements:
            if isinstance(element, str) and is_reserved(element):
                return paths, f"Attribute name is a reserved keyword; reserved keyword: {element}"
    return paths, None


def parse_projection(text: str, attrs: ExpressionAttributes, *, limit: bool = True) -> Projection:
    if limit:
        check_expression_size(text, KIND)
    paths, message = _analyse(text)
    if message is not None:
        raise invalid_expression(KIND, message)
    undefined: str | None = None
    resolved: list[tuple] = []
    for path in paths:  # type: ignore[union-attr]
        elements: list = []
        for element in path.elements:
            if isinstance(element, NameRef):
                name = None if undefined else attrs.name(element.name)
                if name is None:
                    undefined = undefined or ("An expression attribute name used in the document path is not "
                                              f"defined; attribute name: {element.name}")
                    name = element.name
                element = name
            elements.append(element)
        resolved.append(tuple(elements))
    if undefined:
        raise invalid_expression(KIND, undefined)
    checker = PathChecker()
    for path in resolved:
        checker.add(path)
    if checker.overlap or checker.conflict:
        raise invalid_expression(KIND, checker.overlap or checker.conflict)  # type: ignore[arg-type]
    return Projection(tuple(resolved))


def project(item: dict | None, projection: Projection) -> dict:
    return project_paths(item, projection.paths)
