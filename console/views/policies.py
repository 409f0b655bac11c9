"""Policies: the JSON editor (checked as you type and on save against the real action
list and ARN shapes), where each policy is attached, and the policy simulator."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from accounts.models import Group, IamUser, Policy
from accounts.policy import make_context
from accounts.policy_simulator import simulate as run_simulation
from accounts.policy_validation import dynamodb_actions, validate_policy_document
from wireapi.runtime import get_runtime

from ..access import needs, page
from ..calls import DynamoDBError, call
from .common import flash

STARTER = {"Version": "2012-10-17", "Statement": [{
    "Sid": "ReadOneTable", "Effect": "Allow",
    "Action": ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan", "dynamodb:BatchGetItem"],
    "Resource": ["arn:aws:dynamodb:*:*:table/TABLE", "arn:aws:dynamodb:*:*:table/TABLE/index/*"]}]}
_STREAM_ACTIONS = {"DescribeStream", "GetRecords", "GetShardIterator"}


def _log(request: HttpRequest, obj: Any, flag: int, message: str) -> None:
    LogEntry.objects.log_actions(request.user.pk, [obj], flag, change_message=message, single_object=True)


def _list() -> list[Policy]:
    return list(Policy.objects.annotate(user_count=Count("users", distinct=True),
                                        group_count=Count("groups", distinct=True)).order_by("name"))


@needs("accounts.view_policy")
async def policy_list(request: HttpRequest) -> HttpResponse:
    return await page(request, "policies/list.html", {"title": "Policies", "policies": await sync_to_async(_list)()},
                      "Policies")


def _problems(text: str) -> tuple[Any, list[str]]:
    try:
        document = json.loads(text)
    except ValueError as exc:
        return None, [f"The policy is not valid JSON: {exc}"]
    return document, validate_policy_document(document)


@needs("accounts.view_policy")
async def validate(request: HttpRequest) -> HttpResponse:
    """The editor's live check (htmx): the problems of the document typed so far."""
    _, problems = _problems(request.POST.get("document", ""))
    return await page(request, "policies/_problems.html", {"problems": problems, "checked": True}, "Policies")


def _edit(request: HttpRequest, policy_name: str | None) -> dict[str, Any]:
    policy = Policy.objects.filter(name=policy_name).first() if policy_name else None
    if policy_name and policy is None:
        raise Http404(f"No policy {policy_name}")
    out: dict[str, Any] = {"policy": policy, "problems": [], "name": policy.name if policy else "",
                           "description": policy.description if policy else "",
                           "document": json.dumps(policy.document if policy else STARTER, indent=2)}
    if request.method == "POST":
        action = request.POST.get("action", "save")
        if action == "delete":
            if not request.user.has_perm("accounts.delete_policy") or policy is None or policy.builtin:
                raise PermissionDenied
            _log(request, policy, DELETION, "Deleted in the console")
            policy.delete()
            return {"deleted": True}
        if action == "attach":
            if not request.user.has_perm("accounts.change_policy") or policy is None:
                raise PermissionDenied
            with transaction.atomic():
                policy.users.set(IamUser.objects.filter(pk__in=request.POST.getlist("user")))
                policy.groups.set(Group.objects.filter(pk__in=request.POST.getlist("group")))
            _log(request, policy, CHANGE, "Changed attachments in the console")
            return {"saved": policy.name, "attached": True}
        if not request.user.has_perm("accounts.change_policy" if policy else "accounts.add_policy"):
            raise PermissionDenied
        if policy is not None and policy.builtin:
            raise PermissionDenied  # built-in policies are attached, never edited
        out.update(name=request.POST.get("name", "").strip(), description=request.POST.get("description", ""),
                   document=request.POST.get("document", ""))
        document, problems = _problems(out["document"])
        out["problems"] = problems
        if not problems:
            target = policy or Policy()
            target.name, target.description, target.document = out["name"], out["description"], document
            try:
                target.full_clean()
                target.save()
            except ValidationError as exc:
                out["problems"] = [m for ms in exc.message_dict.values() for m in ms]
            else:
                _log(request, target, CHANGE if policy else ADDITION, "Saved in the console")
                return {"saved": target.name}
    if policy is not None:
        out.update(attached_users=set(policy.users.values_list("pk", flat=True)),
                   attached_groups=set(policy.groups.values_list("pk", flat=True)),
                   users=list(IamUser.objects.order_by("name")), groups=list(Group.objects.order_by("name")))
    return out


@needs("accounts.view_policy")
async def policy_edit(request: HttpRequest, policy_name: str | None = None) -> HttpResponse:
    await request.auser()
    found = await sync_to_async(_edit)(request, policy_name)
    if found.get("deleted"):
        await flash(request, f"Deleted policy {policy_name}.")
        return HttpResponseRedirect(reverse("console:policies"))
    if found.get("saved"):
        await flash(request, f"Saved {'attachments of ' if found.get('attached') else ''}policy {found['saved']}.")
        return HttpResponseRedirect(reverse("console:policy", args=[found["saved"]]))
    title = f"Policy {policy_name}" if policy_name else "New policy"
    return await page(request, "policies/edit.html", {"title": title, "actions": dynamodb_actions(), **found},
                      "Policies")


# --- the simulator ----------------------------------------------------------------
def _arn(resource: str) -> str:
    return f"arn:aws:dynamodb:{settings.EXTENDDB_REGION}:{settings.EXTENDDB_ACCOUNT_ID}:{resource}"


def simulation_context(user_name: str, source_ip: str, key: str, attributes: list[str]) -> dict[str, Any]:
    """The condition keys a request of this user would carry (as wireapi.authz builds them)."""
    account = settings.EXTENDDB_ACCOUNT_ID
    now = datetime.now(timezone.utc)
    values: dict[str, Any] = {
        "aws:username": user_name, "aws:principalarn": f"arn:aws:iam::{account}:user/{user_name}",
        "aws:principalaccount": account, "aws:principaltype": "User", "aws:securetransport": "true",
        "aws:requestedregion": settings.EXTENDDB_REGION, "aws:currenttime": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "aws:epochtime": str(int(now.timestamp())), "aws:sourceip": source_ip or None,
        "dynamodb:leadingkeys": (key,) if key else None,
        "dynamodb:attributes": tuple(sorted(attributes)) if attributes else None,
    }
    return make_context(values)


@needs("accounts.view_policy")
async def simulate(request: HttpRequest) -> HttpResponse:
    params = request.GET
    users = await sync_to_async(lambda: list(IamUser.objects.order_by("name").values_list("name", flat=True)))()
    context: dict[str, Any] = {"title": "Policy simulator", "users": users, "actions": dynamodb_actions(),
                               "params": params.dict(), "verdict": None}
    user_name, action, table = params.get("user", ""), params.get("action", ""), params.get("table", "").strip()
    if user_name and action:
        full_action = action if ":" in action else f"dynamodb:{action}"
        resource = _arn(f"table/{table or '*'}")
        if params.get("index", "").strip():
            resource += f"/index/{params['index'].strip()}"
        if full_action.partition(":")[2] in _STREAM_ACTIONS and table:
            try:  # stream actions are checked against the table's stream
                described = (await call(request, "DescribeTable", {"TableName": table}))["Table"]
                resource = described.get("LatestStreamArn", resource + "/stream/*")
            except DynamoDBError:
                resource += "/stream/*"
        attributes = [a.strip() for a in params.get("attributes", "").split(",") if a.strip()]
        documents = await get_runtime().backend.fetch_user_policies(user_name)
        verdict = run_simulation(documents, full_action, resource,
                                 simulation_context(user_name, params.get("source_ip", "").strip(),
                                                    params.get("key", ""), attributes))
        context.update(verdict=verdict, resource=resource, full_action=full_action, documents=documents,
                       statement_json=json.dumps(verdict.source.statement, indent=2)
                       if verdict.source and verdict.source.statement else "")
    return await page(request, "policies/simulate.html", context, "Policies")
