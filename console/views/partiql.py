"""The PartiQL editor: a statement with parameters, results in the attribute grid,
pages through NextToken, and this session's statement history."""
from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, HttpResponse

from .. import grid
from ..access import needs, page
from ..calls import DynamoDBError, call, message_of
from ..values import parse_plain, to_dynamo

HISTORY = "console_partiql_history"
HISTORY_SIZE = 25


def parameters(text: str, fmt: str) -> list[Any]:
    """Parameters as a JSON list, plain (DocumentClient-typed) or DynamoDB JSON."""
    if not text.strip():
        return []
    try:
        values = parse_plain(text) if fmt == "plain" else json.loads(text)
    except ValueError as exc:
        raise ValueError(f"Parameters are not valid JSON: {exc}") from None
    if not isinstance(values, list):
        raise ValueError("Parameters must be a JSON list, such as [\"p-17\", 42]")
    return [to_dynamo(v) for v in values] if fmt == "plain" else values


@needs("storage.view_table")
async def editor(request: HttpRequest) -> HttpResponse:
    history: list[dict[str, str]] = await request.session.aget(HISTORY, [])
    source = request.POST if request.method == "POST" else request.GET
    chosen = history[int(source["h"])] if source.get("h", "").isdigit() and int(source["h"]) < len(history) else None
    form = {"statement": (chosen or source).get("statement", ""), "parameters": (chosen or source).get("parameters", ""),
            "format": (chosen or source).get("format", "plain"), "consistent": bool(source.get("consistent"))}
    context: dict[str, Any] = {"title": "PartiQL", "form": form, "history": list(enumerate(history))[::-1],
                               "grid": None, "error": None, "next_token": None}
    if request.method == "POST" and form["statement"].strip():
        data: dict[str, Any] = {"Statement": form["statement"]}
        try:
            params = parameters(form["parameters"], form["format"])
            if params:
                data["Parameters"] = params
            if form["consistent"]:
                data["ConsistentRead"] = True
            if request.POST.get("next_token"):
                data["NextToken"] = request.POST["next_token"]
            result = await call(request, "ExecuteStatement", data)
        except ValueError as exc:
            context["error"] = str(exc)
        except DynamoDBError as exc:
            context["error"] = message_of(exc)
        else:
            found = result.get("Items", [])
            names = sorted({n for item in found for n in item})
            context.update(grid=grid.build(found, []), columns=names, next_token=result.get("NextToken"),
                           ran=True)
        entry = {"statement": form["statement"], "parameters": form["parameters"], "format": form["format"]}
        if not request.POST.get("next_token"):
            history = [h for h in history if h != entry][-(HISTORY_SIZE - 1):] + [entry]
            await request.session.aset(HISTORY, history)
            context["history"] = list(enumerate(history))[::-1]
    return await page(request, "partiql/editor.html", context, "PartiQL")
