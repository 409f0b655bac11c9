"""What a console administrator may do to data, as an IAM policy.

The console calls the wire protocol's handlers after wireapi.authz has checked
the call, exactly as for a signed request. An administrator has no IAM
policies of their own; their Django permissions on the Table model are turned
into one here (view: read; change: write items and change table settings;
add: create and restore tables; delete: delete tables and backups), so a
PartiQL DELETE typed by a read-only administrator, a BatchWriteItem of a bulk
delete, or a GetRecords of the stream tail is decided by the same evaluator
and the same per-operation checks as any client's, and refused in the same
words. Superusers get everything.
"""
from __future__ import annotations

from functools import cache

from accounts.policy import PolicySet, compile_policies

READ = ("dynamodb:Describe*", "dynamodb:List*", "dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query",
        "dynamodb:Scan", "dynamodb:PartiQLSelect", "dynamodb:GetRecords", "dynamodb:GetShardIterator")
CHANGE = ("dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem",
          "dynamodb:ConditionCheckItem", "dynamodb:PartiQLInsert", "dynamodb:PartiQLUpdate",
          "dynamodb:PartiQLDelete", "dynamodb:UpdateTable", "dynamodb:UpdateTimeToLive", "dynamodb:TagResource",
          "dynamodb:UntagResource", "dynamodb:UpdateContinuousBackups", "dynamodb:CreateBackup",
          "dynamodb:ExportTableToPointInTime")
ADD = ("dynamodb:CreateTable", "dynamodb:RestoreTableFromBackup", "dynamodb:RestoreTableToPointInTime",
       "dynamodb:ImportTable")
DELETE = ("dynamodb:DeleteTable", "dynamodb:DeleteBackup")
_BY_PERMISSION = {"storage.view_table": READ, "storage.change_table": CHANGE, "storage.add_table": ADD,
                  "storage.delete_table": DELETE}


@cache
def policy_set(granted: frozenset[str], superuser: bool) -> PolicySet:
    """The compiled policy for one combination of permissions (there are 16, each compiled once)."""
    if superuser:
        actions: list[str] = ["dynamodb:*"]
    else:
        actions = [a for perm, listed in _BY_PERMISSION.items() if perm in granted for a in listed]
    if not actions:
        return compile_policies([])  # nothing allowed
    document = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}
    return compile_policies([("console-permissions", document)])


async def policies_of(user) -> PolicySet:
    if user.is_superuser:
        return policy_set(frozenset(), True)
    granted = await user.aget_all_permissions()
    return policy_set(frozenset(p for p in granted if p in _BY_PERMISSION), False)
