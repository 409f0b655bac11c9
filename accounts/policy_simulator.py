"""The policy simulator's answer: may this principal do this action on this resource,
and which statement decided it.

Evaluation is accounts.policy's own (the same PolicySet the server uses for
every request); this module only keeps track of where each compiled statement
came from, so the answer can name the policy, the statement's position and
Sid, and show the statement itself.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .policy import Context, Decision, PolicySet, compile_policies, compile_statement
from .policy_validation import validate_policy_document


@dataclass(frozen=True)
class Source:
    policy: str
    index: int | None  # position in the policy's Statement list; None for a broken document
    statement: Mapping[str, Any] | None


@dataclass(frozen=True)
class Verdict:
    decision: Decision
    source: Source | None  # the deciding statement: the Deny, or the first Allow; None if implicit

    @property
    def allowed(self) -> bool:
        return self.decision is Decision.ALLOW


def _compiled(documents: Iterable[tuple[str, Mapping[str, Any]]]) -> tuple[PolicySet, dict[int, Source]]:
    statements, sources = [], {}
    for name, document in documents:
        if validate_policy_document(document, names=False):
            # Broken documents deny everything (accounts.policy fails closed): the same here.
            broken = compile_policies([(name, document)]).statements
            for statement in broken:
                sources[id(statement)] = Source(name, None, None)
            statements.extend(broken)
            continue
        variables = document.get("Version") == "2012-10-17"
        raw = document["Statement"]
        for index, item in enumerate([raw] if isinstance(raw, dict) else raw):
            statement = compile_statement(item, variables, name)
            sources[id(statement)] = Source(name, index, item)
            statements.append(statement)
    return PolicySet(statements), sources


def simulate(documents: Iterable[tuple[str, Mapping[str, Any]]], action: str, resource: str,
             context: Context) -> Verdict:
    """Evaluate one (action, resource) against the documents, as a request with `context` would be."""
    policies, sources = _compiled(documents)
    outcome = policies.evaluate(action, resource, context)
    source = sources.get(id(outcome.statement)) if outcome.statement is not None else None
    return Verdict(outcome.decision, source)
