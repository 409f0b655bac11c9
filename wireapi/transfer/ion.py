"""DynamoDB items to and from Amazon Ion text, with DynamoDB's type mapping:
S string, N decimal, B blob, BOOL bool, NULL null, L list, M struct, and the
sets as lists annotated $dynamodb_SS / $dynamodb_NS / $dynamodb_BS."""
from __future__ import annotations

import base64
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from amazon.ion import simpleion
from amazon.ion.core import IonType
from amazon.ion.simple_types import IonPyBytes, IonPyList, IonPyNull

_SET_ANNOTATIONS = {"SS": "$dynamodb_SS", "NS": "$dynamodb_NS", "BS": "$dynamodb_BS"}
_SET_TYPES = {v: k for k, v in _SET_ANNOTATIONS.items()}


class IonItemError(ValueError):
    pass


def _blob(text: str) -> IonPyBytes:
    return IonPyBytes.from_value(IonType.BLOB, base64.b64decode(text))


def _to_ion(av: dict[str, Any]) -> Any:
    kind, val = next(iter(av.items()))
    if kind == "S":
        return val
    if kind == "N":
        return Decimal(val)
    if kind == "B":
        return _blob(val)
    if kind == "BOOL":
        return bool(val)
    if kind == "NULL":
        return None
    if kind == "L":
        return [_to_ion(v) for v in val]
    if kind == "M":
        return {k: _to_ion(v) for k, v in val.items()}
    if kind == "SS":
        members: list[Any] = list(val)
    elif kind == "NS":
        members = [Decimal(v) for v in val]
    else:  # BS
        members = [_blob(v) for v in val]
    return IonPyList.from_value(IonType.LIST, members, (_SET_ANNOTATIONS[kind],))


def change_line(record: dict[str, Any]) -> bytes:
    """One incremental export line: {Metadata:{WriteTimestampMicros:…},Keys:{…},NewImage:{…},OldImage:{…}}."""
    value: dict[str, Any] = {"Metadata": {"WriteTimestampMicros": int(record["Metadata"]["WriteTimestampMicros"]["N"])}}
    for part in ("Keys", "NewImage", "OldImage"):
        if part in record:
            value[part] = {k: _to_ion(v) for k, v in record[part].items()}
    text = simpleion.dumps(value, binary=False)
    return text.encode("utf-8") + b"\n"


def item_line(item: dict[str, Any]) -> bytes:
    """One export line: the Ion version marker, then {Item:{...}}."""
    text = simpleion.dumps({"Item": {k: _to_ion(v) for k, v in item.items()}}, binary=False)
    return text.encode("utf-8") + b"\n"


def _number(value: Any) -> str:
    if isinstance(value, bool):
        raise IonItemError("a bool is not a number")
    if isinstance(value, float):
        value = Decimal(repr(value))
    return str(value)  # validation canonicalises it as DynamoDB stores numbers


def _from_ion(value: Any) -> dict[str, Any]:
    ion_type = getattr(value, "ion_type", None)
    annotations = [a.text for a in getattr(value, "ion_annotations", ()) if getattr(a, "text", None)]
    if isinstance(value, IonPyNull) or value is None or ion_type == IonType.NULL:
        return {"NULL": True}
    if isinstance(value, bool) or ion_type == IonType.BOOL:
        return {"BOOL": bool(value)}
    if ion_type in (IonType.STRING, IonType.SYMBOL) or isinstance(value, str):
        return {"S": str(value)}
    if ion_type in (IonType.DECIMAL, IonType.INT, IonType.FLOAT) or isinstance(value, (int, float, Decimal)):
        return {"N": _number(value)}
    if ion_type in (IonType.BLOB, IonType.CLOB) or isinstance(value, bytes):
        return {"B": base64.b64encode(bytes(value)).decode("ascii")}
    if ion_type in (IonType.LIST, IonType.SEXP) or isinstance(value, list):
        set_type = next((_SET_TYPES[a] for a in annotations if a in _SET_TYPES), None)
        if set_type is None:
            return {"L": [_from_ion(v) for v in value]}
        members = [_from_ion(v) for v in value]
        wanted = set_type[0]
        if any(wanted not in m for m in members):
            raise IonItemError(f"{annotations[0]} holds a value of another type")
        return {set_type: [m[wanted] for m in members]}
    if ion_type == IonType.STRUCT or isinstance(value, Mapping):
        return {"M": {str(k): _from_ion(v) for k, v in value.items()}}
    raise IonItemError(f"unsupported Ion type {ion_type}")


def parse_item(text: str) -> dict[str, Any]:
    """The item of one import line (`$ion_1_0 {Item:{...}}`), as DynamoDB JSON (unvalidated)."""
    try:
        values = simpleion.loads(text, single_value=False)
    except Exception as exc:  # the Ion reader raises several unrelated types
        raise IonItemError(f"invalid Ion: {exc}") from None
    if len(values) != 1 or not isinstance(values[0], Mapping) or not isinstance(values[0].get("Item"), Mapping):
        raise IonItemError("expected one struct with an Item member")
    return {str(k): _from_ion(v) for k, v in values[0]["Item"].items()}
