"""Document paths: lookup in items, overlap checks, nested projection."""
from __future__ import annotations

from typing import Iterable

from .ast import path_str

ResolvedPath = tuple  # tuple[str | int, ...]


def get_path(item: dict | None, path: ResolvedPath) -> dict | None:
    """The value at `path`, or None when any step is missing or of the wrong type."""
    if not item:
        return None
    current = item.get(path[0])
    for element in path[1:]:
        if current is None:
            return None
        if isinstance(element, int):
            items = current.get("L")
            current = items[element] if items is not None and element < len(items) else None
        else:
            members = current.get("M")
            current = members.get(element) if members is not None else None
    return current


class PathChecker:
    """DynamoDB's overlap/conflict rules for update targets and projections:
    the first overlap wins, but a later conflict replaces an earlier one."""

    def __init__(self) -> None:
        self.paths: list[ResolvedPath] = []
        self.overlap: str | None = None
        self.conflict: str | None = None

    def add(self, path: ResolvedPath) -> None:
        if self.overlap:
            return
        for seen in self.paths:
            self._compare(seen, path)
            if self.overlap:
                return
        self.paths.append(path)

    def _compare(self, one: ResolvedPath, two: ResolvedPath) -> None:
        for a, b in zip(one, two):
            if isinstance(a, int) != isinstance(b, int):
                self.conflict = (
                    "Two document paths conflict with each other; must remove or rewrite one of these paths; "
                    f"path one: {path_str(one)}, path two: {path_str(two)}")
                return
            if a != b:
                return
        self.overlap = (
            "Two document paths overlap with each other; must remove or rewrite one of these paths; "
            f"path one: {path_str(one)}, path two: {path_str(two)}")


class _MapNode(dict):
    pass


class _ListNode(dict):
    """Sparse list keyed by source index; compacted in index order at the end."""


def project_paths(item: dict | None, paths: Iterable[ResolvedPath]) -> dict:
    """The nested sub-document DynamoDB returns for these paths: missing paths are
    skipped, list elements keep their relative order and are packed together."""
    out = _MapNode()
    if not item:
        return {}
    for path in paths:
        value = get_path(item, path)
        if value is None:
            continue
        node: dict = out
        for i, element in enumerate(path[:-1]):
            child_kind = _ListNode if isinstance(path[i + 1], int) else _MapNode
            child = node.get(element)
            if not isinstance(child, child_kind):
                child = node[element] = child_kind()
            node = child
        node[path[-1]] = value
    return {name: _finish(value) for name, value in out.items()}


def _finish(node: object) -> dict:
    if isinstance(node, _MapNode):
        return {"M": {name: _finish(value) for name, value in node.items()}}
    if isinstance(node, _ListNode):
        return {"L": [_finish(node[index]) for index in sorted(node)]}
    return node  # type: ignore[return-value]
