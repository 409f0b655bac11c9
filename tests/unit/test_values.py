"""Attribute value validation, numbers, equality, ordering and sizes."""
import pytest

from wireapi.errors import SerializationException, ValidationException
from wireapi import values as v


def _verr(av) -> str:
    with pytest.raises(ValidationException) as exc:
        v.validate_value(av)
    return exc.value.message


def _serr(av) -> str:
    with pytest.raises(SerializationException) as exc:
        v.validate_value(av)
    assert exc.value.body()["Message"]
    return exc.value.body()["Message"]


def test_valid_values_round_trip():
    for av in ({"S": "x"}, {"S": ""}, {"B": "YWJj"}, {"B": ""}, {"BOOL": False}, {"NULL": True},
               {"SS": ["a", "b"]}, {"BS": ["YQ==", "Yg=="]}, {"L": []}, {"M": {}},
               {"M": {"a": {"L": [{"S": "x"}]}}}):
        assert v.validate_value(av) == av


def test_numbers_are_normalised_recursively():
    assert v.validate_value({"N": "1.0"}) == {"N": "1"}
    assert v.validate_value({"NS": ["1e2", "0.10"]}) == {"NS": ["100", "0.1"]}
    assert v.validate_value({"M": {"a": {"N": "-0"}}}) == {"M": {"a": {"N": "0"}}}
    assert v.validate_value({"L": [{"N": "+5"}]}) == {"L": [{"N": "5"}]}


def test_empty_and_multiple_types():
    assert _verr({}) == v.EMPTY_VALUE
    assert _verr({"X": "y"}) == v.EMPTY_VALUE  # unknown members are dropped by Coral
    assert _verr({"S": None}) == v.EMPTY_VALUE
    assert _verr({"S": "a", "BOOL": True}) == v.MULTIPLE_TYPES
    assert _verr({"M": {"a": {}}}) == v.EMPTY_VALUE
    # a nested/number problem is reported before the multiple-types one
    assert _verr({"S": "a", "N": "x"}) == "The parameter cannot be converted to a numeric value: x"


def test_set_messages():
    pre = "One or more parameter values were invalid: "
    assert _verr({"SS": []}) == pre + "An string set  may not be empty"
    assert _verr({"NS": []}) == pre + "An number set  may not be empty"
    assert _verr({"BS": []}) == pre + "Binary sets should not be empty"
    assert _verr({"SS": ["a", "a"]}) == pre + "Input collection [a, a] contains duplicates."
    assert _verr({"NS": ["1", "1.0"]}) == "Input collection contains duplicates"
    assert _verr({"BS": ["YQ==", "YQ=="]}) == pre + "Input collection [YQ==, YQ==]of type BS contains duplicates."
    assert _verr({"NULL": False}) == pre + "Null attribute value types must have the value of true"


def test_number_messages():
    assert _verr({"N": ""}) == "The parameter cannot be converted to a numeric value"
    assert _verr({"N": "abc"}) == "The parameter cannot be converted to a numeric value: abc"
    assert _verr({"N": "1e126"}) == v.NUMBER_OVERFLOW
    assert _verr({"N": "-1e126"}) == v.NUMBER_OVERFLOW
    assert _verr({"N": "1e-131"}) == v.NUMBER_UNDERFLOW
    assert _verr({"N": "1" * 39}) == v.TOO_MANY_DIGITS
    assert _verr({"NS": ["1", "x"]}) == "The parameter cannot be converted to a numeric value: x"
    assert v.validate_value({"N": "1" * 38 + "000"})["N"] == "1" * 38 + "000"
    assert v.validate_value({"N": "9.9999999999999999999999999999999999999E+125"})
    assert v.validate_value({"N": "1E-130"})
    assert v.validate_value({"N": "0e-500"}) == {"N": "0"}


def test_serialization_errors():
    assert _serr({"S": 5}) == "NUMBER_VALUE cannot be converted to String"
    assert _serr({"S": 1.5}) == "DECIMAL_VALUE cannot be converted to String"
    assert _serr({"N": True}) == "TRUE_VALUE cannot be converted to String"
    assert _serr({"S": ["a"]}) == "Unrecognized collection type class java.lang.String"
    assert _serr({"S": {}}) == "Start of structure or map found where not expected"
    assert _serr({"B": 1}) == "only base-64-encoded strings are convertible to bytes"
    assert _serr({"B": "abc"}) == "Base64 encoded length is expected a multiple of 4 bytes but found: 3"
    assert _serr({"B": "YR=="}) == "Invalid last non-pad Base64 character dectected"
    assert _serr({"BOOL": "maybe"}) == "Unexpected token received from parser"
    assert _serr({"BOOL": 1}) == "NUMBER_VALUE cannot be converted to Boolean"
    assert _serr({"SS": "a"}) == "Unexpected field type"
    assert _serr({"M": []}).startswith("Unrecognized collection type java.util.Map<")
    assert _serr({"L": [5]}) == "Unexpected value type in payload"
    assert _serr("x") == "Unexpected value type in payload"
    assert v.validate_value({"BOOL": "yes"}) == {"BOOL": True}


def test_shape_pass_precedes_semantics_across_item():
    with pytest.raises(SerializationException):
        v.validate_item({"a": {"SS": []}, "b": {"S": 1}})


def test_normalize_number():
    cases = {"1.0": "1", "1e2": "100", "-0": "0", "0.10": "0.1", "1E-5": "0.00001",
             "-1.500": "-1.5", "00012": "12", ".5": "0.5", "1E+3": "1000"}
    for text, want in cases.items():
        assert v.normalize_number(text) == want


def test_arithmetic():
    assert v.add_numbers("0.1", "0.2") == "0.3"
    assert v.subtract_numbers("0.3", "0.1") == "0.2"
    assert v.subtract_numbers("100000000000000000000.00000001", "1") == "99999999999999999999.00000001"
    with pytest.raises(ValidationException, match="Number overflow"):
        v.add_numbers("9.9999999999999999999999999999999999999E+125", "1E+125")
    with pytest.raises(ValidationException, match="38 significant digits"):
        v.add_numbers("1E+30", "1E-30")
    assert v.add_numbers("5", "-5") == "0"


def test_equality_and_compare():
    assert v.values_equal({"N": "1"}, {"N": "1.00"})
    assert v.values_equal({"SS": ["a", "b"]}, {"SS": ["b", "a"]})
    assert v.values_equal({"NS": ["1", "2"]}, {"NS": ["2.0", "1"]})
    assert not v.values_equal({"S": "1"}, {"N": "1"})
    assert v.values_equal({"M": {"a": {"L": [{"N": "1"}]}}}, {"M": {"a": {"L": [{"N": "1.0"}]}}})
    assert not v.values_equal({"L": [{"N": "1"}, {"N": "2"}]}, {"L": [{"N": "2"}, {"N": "1"}]})
    assert v.compare_values({"N": "10"}, {"N": "9"}) == 1
    assert v.compare_values({"S": "a"}, {"S": "é"}) == -1
    assert v.compare_values({"S": "\uffff"}, {"S": "\U00010000"}) == -1  # UTF-8, not UTF-16
    assert v.compare_values({"B": "AA=="}, {"B": "/w=="}) == -1
    assert v.compare_values({"S": "a"}, {"N": "1"}) is None
    assert v.compare_values({"BOOL": True}, {"BOOL": True}) is None


def test_sizes():
    assert v.number_size("0") == 1
    assert v.number_size("27") == 2
    assert v.number_size("-27") == 3
    assert v.number_size("461") == 3
    assert v.number_size("123.45") == 4
    assert v.number_size("1.5") == 3
    assert v.number_size("100") == 2
    assert v.number_size("1" * 38) == 20
    assert v.value_size({"S": "é"}) == 2
    assert v.value_size({"B": "YWJj"}) == 3
    assert v.value_size({"BOOL": True}) == 1
    assert v.value_size({"L": [{"S": "ab"}]}) == 3 + 1 + 2
    assert v.value_size({"M": {"k": {"S": "ab"}}}) == 3 + 1 + 1 + 2
    assert v.item_size({"id": {"S": "abc"}, "n": {"N": "1"}}) == 5 + 3
    v.check_item_size({"a": {"S": "x" * (409600 - 1)}})
    with pytest.raises(ValidationException, match="^Item size has exceeded the maximum allowed size$"):
        v.check_item_size({"a": {"S": "x" * 409600}})
