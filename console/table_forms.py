"""Table creation and settings as forms, turned into the DynamoDB requests they mean.

Index key schemas take up to four partition and four sort key attributes
(DynamoDB's multi-attribute GSI keys); the form sends what was filled in and
the server decides what it accepts, in its own words.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django import forms

KEY_TYPES = [("S", "String"), ("N", "Number"), ("B", "Binary")]
BILLING = [("PAY_PER_REQUEST", "On demand"), ("PROVISIONED", "Provisioned")]
STREAM_VIEWS = [("", "Off"), ("NEW_AND_OLD_IMAGES", "New and old images"), ("NEW_IMAGE", "New image"),
                ("OLD_IMAGE", "Old image"), ("KEYS_ONLY", "Keys only")]
PROJECTIONS = [("ALL", "All attributes"), ("KEYS_ONLY", "Keys only"), ("INCLUDE", "Keys and listed attributes")]
TABLE_CLASSES = [("STANDARD", "Standard"), ("STANDARD_INFREQUENT_ACCESS", "Standard-IA")]
MAX_KEY_PARTS = 4  # per side of a GSI key (partition, sort)
MAX_GSIS = 20
MAX_LSIS = 5


class CreateTableForm(forms.Form):
    table_name = forms.CharField(max_length=255)
    pk_name = forms.CharField(label="Partition key", max_length=255, initial="pk")
    pk_type = forms.ChoiceField(choices=KEY_TYPES, initial="S", label="type")
    sk_name = forms.CharField(label="Sort key", max_length=255, required=False,
                              help_text="Leave empty for a partition key only")
    sk_type = forms.ChoiceField(choices=KEY_TYPES, initial="S", label="type")
    billing_mode = forms.ChoiceField(choices=BILLING, initial="PAY_PER_REQUEST")
    rcu = forms.IntegerField(label="Read capacity units", min_value=1, required=False)
    wcu = forms.IntegerField(label="Write capacity units", min_value=1, required=False)
    table_class = forms.ChoiceField(choices=TABLE_CLASSES, initial="STANDARD")
    stream_view_type = forms.ChoiceField(choices=STREAM_VIEWS, required=False, label="Stream")
    ttl_attribute = forms.CharField(label="Time to live attribute", max_length=255, required=False,
                                    help_text="Items expire at the epoch seconds this attribute holds")
    deletion_protection = forms.BooleanField(required=False)
    tags = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False,
                           help_text="One key=value a line")


def parse_tags(text: str) -> list[dict[str, str]]:
    tags = []
    for line in text.splitlines():
        if not line.strip():
            continue
        key, sep, value = line.partition("=")
        if not sep:
            raise ValueError(f"Tag {line.strip()!r}: write key=value")
        tags.append({"Key": key.strip(), "Value": value.strip()})
    return tags


@dataclass
class IndexForm:
    """One secondary index as typed into the form (prefix gsi-N- or lsi-N-)."""

    prefix: str
    local: bool
    name: str = ""
    hash: list[tuple[str, str]] = field(default_factory=list)  # (attribute, type)
    range: list[tuple[str, str]] = field(default_factory=list)
    projection: str = "ALL"
    include: str = ""
    rcu: str = ""
    wcu: str = ""

    @property
    def hash_slots(self) -> list[tuple[int, str, str]]:
        return _slots(self.hash, 1 if self.local else MAX_KEY_PARTS)

    @property
    def range_slots(self) -> list[tuple[int, str, str]]:
        return _slots(self.range, 1 if self.local else MAX_KEY_PARTS)

    @property
    def blank(self) -> bool:
        return not self.name and not any(n for n, _ in self.hash + self.range)


def _slots(parts: list[tuple[str, str]], count: int) -> list[tuple[int, str, str]]:
    padded = parts + [("", "S")] * (count - len(parts))
    return [(i, n, t) for i, (n, t) in enumerate(padded[:count])]


def index_from(data: Any, prefix: str, local: bool) -> IndexForm:
    form = IndexForm(prefix, local, name=data.get(f"{prefix}name", "").strip(),
                     projection=data.get(f"{prefix}projection", "ALL"), include=data.get(f"{prefix}include", ""),
                     rcu=data.get(f"{prefix}rcu", ""), wcu=data.get(f"{prefix}wcu", ""))
    for side in ("hash", "range"):
        for i in range(1 if local else MAX_KEY_PARTS):
            name = data.get(f"{prefix}{side}-{i}-name", "").strip()
            kind = data.get(f"{prefix}{side}-{i}-type", "S")
            if name:
                getattr(form, side).append((name, kind if kind in ("S", "N", "B") else "S"))
    return form


def indexes_from(data: Any, kind: str, minimum: int) -> list[IndexForm]:
    """The index forms posted (gsi-0-…, gsi-1-…), at least `minimum` of them (blank ones to fill in)."""
    local = kind == "lsi"
    limit = MAX_LSIS if local else MAX_GSIS
    found = [index_from(data, f"{kind}-{i}-", local) for i in range(limit) if f"{kind}-{i}-name" in data]
    while len(found) < minimum and len(found) < limit:
        found.append(IndexForm(f"{kind}-{len(found)}-", local))
    for i, index in enumerate(found):  # renumbered, so an added blank one never collides
        index.prefix = f"{kind}-{i}-"
    return found


def _projection(index: IndexForm) -> dict[str, Any]:
    projection: dict[str, Any] = {"ProjectionType": index.projection}
    if index.projection == "INCLUDE":
        projection["NonKeyAttributes"] = [a.strip() for a in index.include.split(",") if a.strip()]
    return projection


def index_request(index: IndexForm, table_hash: tuple[str, str] | None, provisioned: bool) -> dict[str, Any]:
    """A GlobalSecondaryIndexes / LocalSecondaryIndexes entry (or a GSI Create update)."""
    hash_parts = [table_hash] if index.local and table_hash else index.hash
    schema = [{"AttributeName": n, "KeyType": "HASH"} for n, _ in hash_parts]
    schema += [{"AttributeName": n, "KeyType": "RANGE"} for n, _ in index.range]
    entry: dict[str, Any] = {"IndexName": index.name, "KeySchema": schema, "Projection": _projection(index)}
    if provisioned and not index.local:
        try:
            entry["ProvisionedThroughput"] = {"ReadCapacityUnits": int(index.rcu or 5),
                                              "WriteCapacityUnits": int(index.wcu or 5)}
        except ValueError:
            raise ValueError(f"Index {index.name}: capacity units are whole numbers") from None
    return entry


def attribute_definitions(parts: list[tuple[str, str]]) -> list[dict[str, str]]:
    """Each key attribute once; one typed two ways is the administrator's to fix."""
    seen: dict[str, str] = {}
    for name, kind in parts:
        if seen.setdefault(name, kind) != kind:
            raise ValueError(f"Attribute {name} is given two types ({seen[name]} and {kind})")
    return [{"AttributeName": n, "AttributeType": t} for n, t in seen.items()]


def create_request(form: CreateTableForm, gsis: list[IndexForm], lsis: list[IndexForm]) -> dict[str, Any]:
    """The CreateTable request; ValueError for what the form itself can tell is wrong."""
    d = form.cleaned_data
    keys = [(d["pk_name"], d["pk_type"])]
    schema = [{"AttributeName": d["pk_name"], "KeyType": "HASH"}]
    if d["sk_name"]:
        keys.append((d["sk_name"], d["sk_type"]))
        schema.append({"AttributeName": d["sk_name"], "KeyType": "RANGE"})
    provisioned = d["billing_mode"] == "PROVISIONED"
    data: dict[str, Any] = {"TableName": d["table_name"], "KeySchema": schema, "BillingMode": d["billing_mode"],
                            "TableClass": d["table_class"]}
    if provisioned and d["rcu"] and d["wcu"]:
        # Left out when incomplete, so CreateTable says what is missing in its own words.
        data["ProvisionedThroughput"] = {"ReadCapacityUnits": d["rcu"], "WriteCapacityUnits": d["wcu"]}
    parts = list(keys)
    used_gsis = [g for g in gsis if not g.blank]
    used_lsis = [i for i in lsis if not i.blank]
    if used_gsis:
        data["GlobalSecondaryIndexes"] = [index_request(g, None, provisioned) for g in used_gsis]
        parts += [p for g in used_gsis for p in g.hash + g.range]
    if used_lsis:
        data["LocalSecondaryIndexes"] = [index_request(i, keys[0], False) for i in used_lsis]
        parts += [p for i in used_lsis for p in i.range]
    data["AttributeDefinitions"] = attribute_definitions(parts)
    if d["stream_view_type"]:
        data["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": d["stream_view_type"]}
    if d["deletion_protection"]:
        data["DeletionProtectionEnabled"] = True
    tags = parse_tags(d["tags"])
    if tags:
        data["Tags"] = tags
    return data


def add_index_request(table: dict[str, Any], index: IndexForm) -> dict[str, Any]:
    """UpdateTable creating one GSI on an existing table."""
    provisioned = table.get("BillingModeSummary", {}).get("BillingMode", "PROVISIONED") == "PROVISIONED"
    known = [(a["AttributeName"], a["AttributeType"]) for a in table["AttributeDefinitions"]]
    mine = index.hash + index.range
    definitions = attribute_definitions(known + mine)
    wanted = {n for n, _ in mine}
    return {"TableName": table["TableName"],
            "AttributeDefinitions": [a for a in definitions if a["AttributeName"] in wanted],
            "GlobalSecondaryIndexUpdates": [{"Create": index_request(index, None, provisioned)}]}
