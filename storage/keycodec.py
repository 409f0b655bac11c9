"""Order-preserving key encoding: memcmp order of the bytes == DynamoDB order.

S is its UTF-8 bytes and B its raw bytes (DynamoDB orders both bytewise).
N is encoded as  sign byte | exponent byte | base-100 digit pairs [| terminator]:

* sign: 0x00 negative, 0x01 zero, 0x02 positive;
* exponent: power of ten of the leading digit + 130 (0..255 over DynamoDB's
  range), complemented for negatives so bigger magnitudes sort first;
* digits: significant digits (no leading/trailing zeros) padded to an even
  count, one byte per pair; for negatives each byte is 99 - pair and a 0xFF
  terminator follows, so that a shorter (smaller magnitude) negative sorts
  after its longer extensions.

Equal numbers (1, 1.0, 10E-1) have identical encodings.
"""
from __future__ import annotations

import base64
from decimal import Decimal

_NEG, _ZERO, _POS = b"\x00", b"\x01", b"\x02"
_EXP_BIAS = 130
_NEG_END = 0xFF


def _digits(num: Decimal) -> tuple[int, str, int]:
    """(sign, significant digits, power of ten of the leading digit)."""
    sign, digits, exp = num.as_tuple()
    text = "".join(map(str, digits)).lstrip("0")
    stripped = text.rstrip("0")
    last_exp = int(exp) + len(text) - len(stripped)
    return sign, stripped, last_exp + len(stripped) - 1


def encode_number(text: str) -> bytes:
    num = Decimal(text)
    if not num:
        return _ZERO
    sign, digits, lead = _digits(num)
    if len(digits) % 2:
        digits += "0"
    pairs = [int(digits[i:i + 2]) for i in range(0, len(digits), 2)]
    exp = lead + _EXP_BIAS
    if not 0 <= exp <= 255:
        raise ValueError(f"number out of DynamoDB range: {text}")
    if sign:
        return _NEG + bytes([255 - exp]) + bytes(99 - p for p in pairs) + bytes([_NEG_END])
    return _POS + bytes([exp]) + bytes(pairs)


def decode_number(data: bytes) -> str:
    """Inverse of encode_number, in DynamoDB's canonical text form."""
    if data[:1] == _ZERO:
        return "0"
    negative = data[:1] == _NEG
    if negative:
        lead = 255 - data[1] - _EXP_BIAS
        pairs = [99 - b for b in data[2:-1]]
    else:
        lead = data[1] - _EXP_BIAS
        pairs = list(data[2:])
    digits = "".join(f"{p:02d}" for p in pairs).rstrip("0")
    num = Decimal((int(negative), tuple(int(d) for d in digits), lead - len(digits) + 1))
    return format(num, "f")


def encode_key_value(av: dict) -> bytes:
    """Encode one S, N or B key attribute value."""
    if "S" in av:
        return av["S"].encode("utf-8")
    if "N" in av:
        return encode_number(av["N"])
    if "B" in av:
        return base64.b64decode(av["B"])
    raise ValueError(f"not a key attribute value: {av!r}")


def decode_key_value(key_type: str, data: bytes) -> dict:
    if key_type == "S":
        return {"S": data.decode("utf-8")}
    if key_type == "N":
        return {"N": decode_number(data)}
    return {"B": base64.b64encode(data).decode("ascii")}


# --- multi-attribute (composite) keys -----------------------------------------
# A multi-attribute GSI key is the concatenation of its attributes' encodings,
# each made self-delimiting: 0x00 is escaped as 0x00 0xFF and every part ends
# with 0x00 0x01. The terminator sorts below any byte that could continue the
# part, so memcmp order of the whole is the attribute-by-attribute order, and
# the parts fixed by `=` form a byte prefix of every matching key (a range
# condition on the next attribute is then a byte range under that prefix).
# Single-attribute keys never use this: their encoding stays encode_key_value.

_ESCAPED_ZERO = b"\x00\xff"
PART_END = b"\x00\x01"


def escape_part(encoded: bytes) -> bytes:
    """An encoded value's bytes with 0x00 escaped, without the terminator
    (begins_with on a part is a prefix of this)."""
    return encoded.replace(b"\x00", _ESCAPED_ZERO)


def encode_key_part(av: dict) -> bytes:
    """One attribute of a multi-attribute key: escaped and terminated."""
    return escape_part(encode_key_value(av)) + PART_END


def encode_composite(values: list[dict] | tuple[dict, ...]) -> bytes:
    return b"".join(encode_key_part(av) for av in values)


def prefix_end(prefix: bytes) -> bytes | None:
    """The smallest byte string above every string starting with `prefix`
    (None: there is none, every byte is 0xFF)."""
    trimmed = prefix.rstrip(b"\xff")
    if not trimmed:
        return None
    return trimmed[:-1] + bytes([trimmed[-1] + 1])
