"""Parsing OCR lines of an ID card's portrait side, and real OCR of one generated card."""

from __future__ import annotations

import datetime as dt
import socket
import time
from typing import Any

import pytest

from yunzheng.accounts import ocr
from yunzheng.accounts.ocr import IdCardFields, parse_id_card_lines
from yunzheng.accounts.tests.factories import id_card_image, id_number

NUMBER = id_number(region="330106", birth="19900307", sequence="123")


def test_parses_separate_label_and_value_boxes() -> None:
    lines = [
        "姓名",
        "张三丰",
        "性别男",
        "民族汉",
        "出生",
        "1990年3月7日",
        "住址",
        "浙江省杭州市西湖区文三路",
        "100号2幢301室",
        "公民身份号码",
        NUMBER,
    ]
    assert parse_id_card_lines(lines) == IdCardFields(
        name="张三丰",
        sex="M",
        ethnicity="汉",
        birth_date=dt.date(1990, 3, 7),
        address="浙江省杭州市西湖区文三路100号2幢301室",
        id_number=NUMBER,
    )


def test_parses_labels_merged_with_values_and_spaced_labels() -> None:
    lines = [
        "姓 名张三丰",
        "性 别 女 民 族 蒙古",
        "出生 1990 年 3 月 7 日",
        "住址浙江省杭州市西湖区",
        "文三路100号",
        f"公民身份号码 {NUMBER[:-1]}x",
    ]
    fields = parse_id_card_lines(lines)
    assert fields.name == "张三丰"
    assert fields.sex == "F"
    assert fields.ethnicity == "蒙古"
    assert fields.birth_date == dt.date(1990, 3, 7)
    assert fields.address == "浙江省杭州市西湖区文三路100号"
    assert fields.id_number == (NUMBER[:-1] + "X")


def test_number_without_label_and_ocr_confusions() -> None:
    number = id_number(sequence="124")  # even 17th digit: female
    confused = number.replace("0", "O", 1)
    fields = parse_id_card_lines(["姓名", "买买提•艾力", "住址", "新疆乌鲁木齐市", confused])
    assert fields.name == "买买提·艾力"
    assert fields.id_number == number
    assert fields.address == "新疆乌鲁木齐市"  # the unlabelled number line is not part of the address
    # Sex and birth date fall back to what a valid number encodes.
    assert fields.birth_date == dt.date(1990, 3, 7)
    assert fields.sex == "F"


def test_split_birth_date_boxes_and_fullwidth_digits() -> None:
    fields = parse_id_card_lines(["出生", "１９９０", "年", "3", "月7日"])
    assert fields.birth_date == dt.date(1990, 3, 7)


def test_garbage_gives_an_empty_prefill() -> None:
    fields = parse_id_card_lines(["中华人民共和国", "居民身份证", "签发机关", "有效期限"])
    assert fields.is_empty
    assert parse_id_card_lines([]).is_empty


def test_impossible_dates_and_bad_numbers_are_not_prefilled() -> None:
    fields = parse_id_card_lines(["出生", "1990年2月30日", "公民身份号码", "12345"])
    assert fields.birth_date is None
    assert fields.id_number == ""


def test_json_round_trip() -> None:
    fields = IdCardFields(name="张三", sex="M", birth_date=dt.date(2000, 1, 2), id_number=NUMBER)
    assert IdCardFields.from_json(fields.to_json()) == fields
    assert IdCardFields.from_json(None) == IdCardFields()


def test_real_ocr_reads_a_generated_card_offline(monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    """The one test that loads the models and runs rapidocr (about 2 s to load, 1-3 s per photo)."""

    def no_network(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("OCR tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(ocr, "_engine", None)  # load the models again, under the guard
    image = id_card_image(name="张三丰", number=NUMBER, image_format="JPEG")
    started = time.perf_counter()
    ocr.get_engine()
    load_seconds = time.perf_counter() - started
    reading = ocr.read_id_card_front(image)
    assert reading.fields == IdCardFields(
        name="张三丰",
        sex="M",
        ethnicity="汉",
        birth_date=dt.date(1990, 3, 7),
        address="浙江省杭州市西湖区文三路100号2幢301室",
        id_number=NUMBER,
    )
    second = ocr.read_id_card_front(image)
    with capsys.disabled():
        print(
            f"\n[ocr] model load {load_seconds:.2f} s; per photo {reading.seconds:.2f} s, "
            f"then {second.seconds:.2f} s ({reading.line_count} lines)"
        )
