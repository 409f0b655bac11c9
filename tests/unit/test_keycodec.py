"""Key encoding: bytewise order must equal DynamoDB order."""
import base64
import random
from decimal import Decimal

from storage.keycodec import decode_number, encode_key_value, encode_number


def _random_number(rng: random.Random) -> str:
    digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 38)))
    exp = rng.randint(-130, 125 - len(digits) + 1)
    sign = rng.choice(["", "-"])
    num = Decimal(f"{sign}{digits}E{exp}")
    return str(num) if rng.random() < 0.5 else format(num, "f")


def test_equal_numbers_encode_identically():
    for group in (["1", "1.0", "10E-1", "0.1e1"], ["0", "-0", "0.000", "0E10"], ["-12.5", "-125e-1"]):
        assert len({encode_number(x) for x in group}) == 1


def test_number_order_property():
    rng = random.Random(1234)
    nums = [_random_number(rng) for _ in range(4000)]
    # near-collisions: prefixes, neighbours and small magnitudes
    nums += ["0", "1", "-1", "1.05", "-1.05", "10", "-10", "9.99", "-9.99", "1E-130", "-1E-130",
             "9.9999999999999999999999999999999999999E+125", "-9.9999999999999999999999999999999999999E+125",
             "0.5", "-0.5", "100", "101", "-100", "-101"]
    by_value = sorted(nums, key=Decimal)
    by_bytes = sorted(nums, key=encode_number)
    assert [Decimal(x) for x in by_bytes] == [Decimal(x) for x in by_value]


def test_decode_round_trip():
    rng = random.Random(99)
    for _ in range(2000):
        text = _random_number(rng)
        assert Decimal(decode_number(encode_number(text))) == Decimal(text)
    assert decode_number(encode_number("1e2")) == "100"
    assert decode_number(encode_number("-0.0010")) == "-0.001"


def test_strings_and_binary():
    assert encode_key_value({"S": "é"}) == "é".encode()
    assert encode_key_value({"B": base64.b64encode(b"\x00\xff").decode()}) == b"\x00\xff"
    words = ["", "a", "ab", "b", "\uffff", "\U00010000", "Z"]
    assert sorted(words, key=lambda w: encode_key_value({"S": w})) == sorted(words, key=lambda w: w.encode())


# --- multi-attribute keys ---------------------------------------------------------

def _typed_value(rng: random.Random, key_type: str) -> dict:
    if key_type == "N":
        return {"N": rng.choice(["0", "1", "-1", "1.05", "10", "-10.5", _random_number(rng)])}
    raw = bytes(rng.choice(b"\x00\x01\x02\xfe\xffab") for _ in range(rng.randint(0, 4)))
    if key_type == "S":
        return {"S": raw.decode("latin-1")}
    return {"B": base64.b64encode(raw).decode()}


def _order_key(av: dict):
    kind, value = next(iter(av.items()))
    if kind == "N":
        return Decimal(value)
    return value.encode("utf-8") if kind == "S" else base64.b64decode(value)


def test_composite_order_is_attribute_by_attribute():
    """memcmp order of encode_composite == tuple order of the typed values, and the
    encoding of a leading subset is a prefix (what Query's key ranges rely on)."""
    from storage.keycodec import encode_composite

    rng = random.Random(7)
    for types in (("S", "S"), ("N", "S"), ("B", "N", "S"), ("S", "B", "N", "B")):
        rows = [[_typed_value(rng, t) for t in types] for _ in range(600)]
        by_value = sorted(rows, key=lambda r: [_order_key(v) for v in r])
        by_bytes = sorted(rows, key=encode_composite)
        assert [[_order_key(v) for v in r] for r in by_bytes] == [[_order_key(v) for v in r] for r in by_value]
        for row in rows[:50]:
            assert encode_composite(row).startswith(encode_composite(row[:1]))


def test_part_escape_keeps_prefixes():
    from storage.keycodec import encode_key_part, escape_part, prefix_end

    assert encode_key_part({"S": "a\x00b"}) == b"a\x00\xffb\x00\x01"
    assert escape_part(b"a\x00") == b"a\x00\xff"
    # begins_with("a\x00") selects "a\x00..." and nothing else
    low = escape_part(b"a\x00")
    high = prefix_end(low)
    inside = encode_key_part({"S": "a\x00z"})
    outside = [encode_key_part({"S": s}) for s in ("a", "a\x01", "b")]
    assert low <= inside < high
    assert all(not (low <= o < high) for o in outside)
    assert prefix_end(b"\xff\xff") is None
