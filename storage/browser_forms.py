"""Forms of the table browser, and turning typed-in key values into DynamoDB JSON."""
from __future__ import annotations

import base64
import binascii
from typing import Any

from django import forms

KEY_TYPES = [("S", "String"), ("N", "Number"), ("B", "Binary (base64)")]
SORT_OPERATORS = [("", "(any)"), ("=", "="), ("<", "<"), ("<=", "<="), (">", ">"), (">=", ">="),
                  ("begins_with", "begins with"), ("between", "between")]


def typed(value: str, kind: str) -> dict[str, str]:
    """A key value typed into a form, as a DynamoDB attribute value of the key's type."""
    if kind == "B":
        try:
            base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise forms.ValidationError(f"{value!r} is not base64") from None
    return {kind: value}


def plain(value: dict[str, Any]) -> str:
    """A key attribute value as text for a form field or URL (S, N and base64 B are strings)."""
    return next(iter(value.values())) if isinstance(value, dict) and len(value) == 1 else ""


class CreateTableForm(forms.Form):
    table_name = forms.CharField(max_length=255)
    partition_key = forms.CharField(max_length=255, initial="pk")
    partition_key_type = forms.ChoiceField(choices=KEY_TYPES, initial="S")
    sort_key = forms.CharField(max_length=255, required=False, help_text="Leave empty for a partition key only")
    sort_key_type = forms.ChoiceField(choices=KEY_TYPES, initial="S")
    billing_mode = forms.ChoiceField(choices=[("PAY_PER_REQUEST", "On demand (pay per request)"),
                                              ("PROVISIONED", "Provisioned")], initial="PAY_PER_REQUEST")
    read_capacity = forms.IntegerField(min_value=1, initial=5, required=False)
    write_capacity = forms.IntegerField(min_value=1, initial=5, required=False)

    def request(self) -> dict[str, Any]:
        """The CreateTable request; the handler validates it as for any client."""
        d = self.cleaned_data
        keys = [(d["partition_key"], d["partition_key_type"], "HASH")]
        if d["sort_key"]:
            keys.append((d["sort_key"], d["sort_key_type"], "RANGE"))
        data: dict[str, Any] = {
            "TableName": d["table_name"],
            "AttributeDefinitions": [{"AttributeName": n, "AttributeType": t} for n, t, _ in keys],
            "KeySchema": [{"AttributeName": n, "KeyType": k} for n, _, k in keys],
            "BillingMode": d["billing_mode"],
        }
        if d["billing_mode"] == "PROVISIONED" and d["read_capacity"] and d["write_capacity"]:
            # Left out when incomplete, so CreateTable says what is missing in its own words.
            data["ProvisionedThroughput"] = {"ReadCapacityUnits": d["read_capacity"],
                                             "WriteCapacityUnits": d["write_capacity"]}
        return data


class DeleteTableForm(forms.Form):
    confirm_name = forms.CharField(label="Type the table name to confirm", max_length=255)

    def __init__(self, *args: Any, table_name: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.table_name = table_name

    def clean_confirm_name(self) -> str:
        if self.cleaned_data["confirm_name"] != self.table_name:
            raise forms.ValidationError("The name does not match; nothing was deleted.")
        return self.cleaned_data["confirm_name"]


class QueryForm(forms.Form):
    index = forms.ChoiceField(required=False)
    partition_value = forms.CharField(label="Partition key value")
    sort_operator = forms.ChoiceField(choices=SORT_OPERATORS, required=False, label="Sort key")
    sort_value = forms.CharField(required=False, label="Value")
    sort_value2 = forms.CharField(required=False, label="and (between)")
    descending = forms.BooleanField(required=False)

    def __init__(self, *args: Any, indexes: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["index"].choices = [("", "(table)")] + [(name, name) for name in indexes]

    def clean(self) -> dict[str, Any]:
        d = super().clean()
        op = d.get("sort_operator")
        if op and not d.get("sort_value"):
            self.add_error("sort_value", "A sort key condition needs a value.")
        if op == "between" and not d.get("sort_value2"):
            self.add_error("sort_value2", "between needs two values.")
        return d

    def request(self, table: str, schema: list[dict[str, Any]], types: dict[str, str]) -> dict[str, Any]:
        """The Query request for the chosen key schema (the table's or the index's)."""
        d = self.cleaned_data
        names = {"#p": schema[0]["AttributeName"]}
        values = {":p": typed(d["partition_value"], types[names["#p"]])}
        condition = "#p = :p"
        op = d.get("sort_operator")
        if op and len(schema) > 1:
            names["#s"] = schema[1]["AttributeName"]
            kind = types[names["#s"]]
            values[":s"] = typed(d["sort_value"], kind)
            if op == "between":
                values[":t"] = typed(d["sort_value2"], kind)
                condition += " AND #s BETWEEN :s AND :t"
            elif op == "begins_with":
                condition += " AND begins_with(#s, :s)"
            else:
                condition += f" AND #s {op} :s"
        data: dict[str, Any] = {"TableName": table, "KeyConditionExpression": condition,
                                "ExpressionAttributeNames": names, "ExpressionAttributeValues": values,
                                "ScanIndexForward": not d.get("descending")}
        if d.get("index"):
            data["IndexName"] = d["index"]
        return data


class ItemForm(forms.Form):
    item = forms.CharField(widget=forms.Textarea(attrs={"rows": 20, "cols": 100, "spellcheck": "false",
                                                        "class": "json-editor"}),
                           label="Item (DynamoDB JSON)", strip=False)
