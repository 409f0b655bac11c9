"""Imports and exports: ExportTableToPointInTime and ImportTable jobs, started and
followed through the API (the S3 stand-in is EXTENDDB_S3_ROOT, see docs/operations.md)."""
from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from ..access import needs, page
from ..calls import DynamoDBError, call, message_of
from .common import describe, flash, optional

FORMATS_OUT = ("DYNAMODB_JSON", "ION")
FORMATS_IN = ("DYNAMODB_JSON", "ION", "CSV")
COMPRESSIONS = ("NONE", "GZIP", "ZSTD")


async def _start(request: HttpRequest) -> str:
    post = request.POST
    if post.get("action") == "export":
        table = await describe(request, post.get("table", ""))
        data: dict[str, Any] = {"TableArn": table["TableArn"], "S3Bucket": post.get("bucket", "").strip(),
                                "ExportFormat": post.get("format", "DYNAMODB_JSON")}
        if post.get("prefix", "").strip():
            data["S3Prefix"] = post["prefix"].strip()
        await call(request, "ExportTableToPointInTime", data)
        return f"Started exporting {post.get('table')}."
    if post.get("action") == "import":
        keys = [(post.get("pk", "").strip(), post.get("pk_type", "S"), "HASH")]
        if post.get("sk", "").strip():
            keys.append((post["sk"].strip(), post.get("sk_type", "S"), "RANGE"))
        source: dict[str, Any] = {"S3Bucket": post.get("bucket", "").strip()}
        if post.get("prefix", "").strip():
            source["S3KeyPrefix"] = post["prefix"].strip()
        await call(request, "ImportTable", {
            "S3BucketSource": source, "InputFormat": post.get("format", "DYNAMODB_JSON"),
            "InputCompressionType": post.get("compression", "NONE"),
            "TableCreationParameters": {
                "TableName": post.get("table", "").strip(), "BillingMode": "PAY_PER_REQUEST",
                "AttributeDefinitions": [{"AttributeName": n, "AttributeType": t} for n, t, _ in keys],
                "KeySchema": [{"AttributeName": n, "KeyType": k} for n, _, k in keys]}})
        return f"Started importing into {post.get('table')}."
    raise ValueError("Unknown action")


@needs("storage.view_table")
async def transfers(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        try:
            await flash(request, await _start(request))
        except ValueError as exc:
            await flash(request, str(exc), error=True)
        except DynamoDBError as exc:
            await flash(request, message_of(exc), error=True)
        return HttpResponseRedirect(reverse("console:transfers"))
    exports, imports, tables, error = [], [], [], None
    try:
        tables = (await call(request, "ListTables", {"Limit": 100}))["TableNames"]
        for summary in (await call(request, "ListExports", {"MaxResults": 25})).get("ExportSummaries", []):
            described = await optional(request, "DescribeExport", {"ExportArn": summary["ExportArn"]})
            exports.append((described or {}).get("ExportDescription", summary))
        imports = (await call(request, "ListImports", {"PageSize": 25})).get("ImportSummaryList", [])
    except DynamoDBError as exc:
        error = message_of(exc)
    return await page(request, "transfers/page.html", {
        "title": "Imports and exports", "exports": exports, "imports": imports, "tables": tables, "error": error,
        "formats_out": FORMATS_OUT, "formats_in": FORMATS_IN, "compressions": COMPRESSIONS}, "Imports and exports")
