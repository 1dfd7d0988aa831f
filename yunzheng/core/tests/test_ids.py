import datetime

import pytest
from django.utils import translation
from stdnum.cn import ric

from yunzheng.core.errors import ValidationFailed
from yunzheng.core.ids import (
    NonHalfwidthChar,
    ResidentId,
    find_non_halfwidth,
    region_code_exists,
    require_halfwidth,
    validate_credit_code,
    validate_mobile,
    validate_resident_id,
)

VALID_ID = "11010519491231002X"  # published example: Beijing Chaoyang, 1949-12-31, female
VALID_CREDIT_CODE = "91110000600037341L"


def with_check_digit(first17: str) -> str:
    """A number whose only possible defect is the one built into its first 17 digits."""
    return first17 + ric.calc_check_digit(first17 + "0")


def wrong_check_digit(number: str) -> str:
    right = number[-1]
    return number[:-1] + ("1" if right != "1" else "2")


def raised(func, *args, **kwargs) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as info:
        func(*args, **kwargs)
    return info.value


# --- resident ID numbers -------------------------------------------------------------------


def test_valid_resident_id_is_decoded():
    assert validate_resident_id(VALID_ID) == ResidentId(
        number=VALID_ID,
        birth_date=datetime.date(1949, 12, 31),
        region_code="110105",
        gender="F",
        region_name="北京市朝阳区",
    )


def test_resident_id_strips_whitespace_and_upper_cases_x():
    assert validate_resident_id("  11010519491231002x\t").number == VALID_ID


def test_resident_id_gender_comes_from_the_17th_digit():
    male = with_check_digit("11010519900307123")
    assert validate_resident_id(male).gender == "M"
    assert validate_resident_id(with_check_digit("11010519900307124")).gender == "F"


def test_resident_id_with_wrong_check_digit():
    error = raised(validate_resident_id, wrong_check_digit(VALID_ID))
    assert error.code == "id_number.checksum"
    assert error.details[0].field == "id_number"


def test_resident_id_error_uses_the_callers_field_name():
    error = raised(validate_resident_id, wrong_check_digit(VALID_ID), field="driver_id")
    assert error.details[0].field == "driver_id"


@pytest.mark.parametrize("value", ["", "1101051949123100", "11010519491231002X1", "110105 19491231002X"])
def test_resident_id_with_wrong_length(value):
    error = raised(validate_resident_id, value)
    assert error.code == "id_number.format"


@pytest.mark.parametrize("value", ["11010519491231002Y", "1101051949123100AX", "A1010519491231002X"])
def test_resident_id_with_letters_in_the_wrong_place(value):
    assert raised(validate_resident_id, value).code == "id_number.format"


def test_full_width_digit_is_named_with_its_position_and_replacement():
    error = raised(validate_resident_id, "１1010519491231002X")
    assert error.code == "id_number.fullwidth"
    assert error.details[0].params["position"] == 1
    assert error.details[0].params["suggestion"] == "1"
    assert "“1”" in error.message


def test_full_width_check_character():
    error = raised(validate_resident_id, "11010519491231002Ｘ")
    assert error.code == "id_number.fullwidth"
    assert error.details[0].params["position"] == 18
    assert error.details[0].params["suggestion"] == "X"


def test_chinese_character_in_id_number_is_a_format_error():
    assert raised(validate_resident_id, "身份证11010519491231002X").code == "id_number.format"


@pytest.mark.parametrize("birth_digits", ["19900230", "19901301", "19900000", "29990101", "18991231"])
def test_resident_id_with_impossible_birth_date(birth_digits):
    error = raised(validate_resident_id, with_check_digit(f"110105{birth_digits}123"))
    assert error.code == "id_number.birth_date"
    assert error.details[0].params["digits"] == birth_digits


@pytest.mark.parametrize(
    "region_code",
    [
        "999999",  # no such province
        "110199",  # known province, unknown county (stdnum raises KeyError here, not InvalidComponent)
    ],
)
def test_resident_id_with_unknown_region(region_code):
    error = raised(validate_resident_id, with_check_digit(f"{region_code}19900101123"))
    assert error.code == "id_number.region"
    assert error.details[0].params["region_code"] == region_code


def test_resident_id_region_must_have_existed_at_birth():
    # 110103 Chongwen district was merged into Dongcheng in 2010.
    assert validate_resident_id(with_check_digit("11010319900101123")).region_name == "北京市崇文区"
    assert raised(validate_resident_id, with_check_digit("11010320150101123")).code == "id_number.region"


def test_region_code_exists():
    assert region_code_exists("110105")
    assert region_code_exists("110103")  # abolished, but IDs issued under it stay valid
    assert region_code_exists("440300")
    assert not region_code_exists("110199")
    assert not region_code_exists("999999")
    assert not region_code_exists("11010")
    assert not region_code_exists("1101050")


# --- unified social credit codes -----------------------------------------------------------


def test_valid_credit_code():
    assert validate_credit_code(VALID_CREDIT_CODE) == VALID_CREDIT_CODE
    assert validate_credit_code(" 91110000600037341l ") == VALID_CREDIT_CODE


def test_credit_code_with_wrong_check_character():
    error = raised(validate_credit_code, VALID_CREDIT_CODE[:-1] + "M")
    assert error.code == "credit_code.checksum"
    assert error.details[0].field == "credit_code"


@pytest.mark.parametrize("value", ["9111000060003734", "A1110000600037341L", "91110000I00037341L"])
def test_credit_code_with_bad_format(value):
    assert raised(validate_credit_code, value).code == "credit_code.format"


def test_credit_code_with_full_width_letter():
    error = raised(validate_credit_code, "91110000600037341Ｌ")
    assert error.code == "credit_code.fullwidth"
    assert error.details[0].params["suggestion"] == "L"


# --- mobile numbers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    ["13812345678", " 13812345678 ", "138 1234 5678", "138-1234-5678", "+8613812345678", "86 138 1234 5678"],
)
def test_mobile_numbers_are_normalised(value):
    assert validate_mobile(value) == "13812345678"


@pytest.mark.parametrize(
    "value", ["12812345678", "1381234567", "138123456789", "+8713812345678", "138.1234.5678"]
)
def test_invalid_mobile_numbers(value):
    error = raised(validate_mobile, value)
    assert error.code == "phone.format"
    assert error.details[0].field == "phone"


def test_full_width_mobile_number():
    error = raised(validate_mobile, "１３８12345678")
    assert error.code == "phone.fullwidth"
    assert error.details[0].params["position"] == 1


# --- half-width checks ---------------------------------------------------------------------


def test_find_non_halfwidth_reports_every_offender():
    found = find_non_halfwidth("A１−B。\tО张")
    assert found == [
        NonHalfwidthChar(index=1, char="１", name="FULLWIDTH DIGIT ONE", suggestion="1"),
        NonHalfwidthChar(index=2, char="−", name="MINUS SIGN", suggestion="-"),
        NonHalfwidthChar(index=4, char="。", name="IDEOGRAPHIC FULL STOP", suggestion="."),
        NonHalfwidthChar(index=5, char="\t", name="U+0009", suggestion=None),
        NonHalfwidthChar(index=6, char="О", name="CYRILLIC CAPITAL LETTER O", suggestion="O"),
        NonHalfwidthChar(index=7, char="张", name="CJK UNIFIED IDEOGRAPH-5F20", suggestion=None),
    ]


@pytest.mark.parametrize(
    ("char", "suggestion"),
    [
        ("\u3000", " "),  # ideographic space, via NFKC
        ("\u00a0", " "),
        ("\u2010", "-"),
        ("\u2014", "-"),
        ("\u3001", ","),
        ("\u201c", '"'),
        ("\u2019", "'"),
        ("（", "("),
        ("Α", "A"),  # Greek capital alpha
        ("р", "p"),  # Cyrillic small er
    ],
)
def test_half_width_suggestions(char, suggestion):
    assert find_non_halfwidth(char)[0].suggestion == suggestion


def test_printable_ascii_passes():
    value = "".join(chr(code) for code in range(0x20, 0x7F))
    assert find_non_halfwidth(value) == []
    assert require_halfwidth(value, field="plate") == value


def test_require_halfwidth_names_first_offender_and_lists_all():
    error = raised(require_halfwidth, "京A·12345，", field="plate_number")
    assert error.code == "halfwidth.required"
    detail = error.details[0]
    assert detail.field == "plate_number"
    assert detail.params["position"] == 1
    assert [offender["position"] for offender in detail.params["offenders"]] == [1, 3, 9]
    assert detail.params["offenders"][2]["suggestion"] == ","
    with translation.override("en"):
        english = raised(require_halfwidth, "京A·12345，", field="plate_number")
    assert "position 1" in english.message
    # Chinese by default (zh-hans), naming the same position.
    assert "第 1 位" in error.message
