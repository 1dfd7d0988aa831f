import io
import logging

import pytest

from yunzheng.core.logging import PersonalDataMaskingFilter, mask_personal_data

ID_NUMBER = "110101199003071237"
PHONE = "13812345678"


@pytest.fixture
def masked_logger():
    logger = logging.getLogger("yunzheng.tests.masking")
    masking = PersonalDataMaskingFilter()
    logger.addFilter(masking)
    yield logger
    logger.removeFilter(masking)


def test_id_and_phone_are_masked_in_records(masked_logger, caplog):
    with caplog.at_level(logging.INFO, logger="yunzheng.tests.masking"):
        masked_logger.info("applicant %s phone %s applied", ID_NUMBER, PHONE)
        masked_logger.warning("身份证号%s已存在，手机号%s", "11010519491231002x", PHONE)

    assert [record.getMessage() for record in caplog.records] == [
        "applicant 1101**********1237 phone 138****5678 applied",
        "身份证号1101**********002x已存在，手机号138****5678",
    ]
    assert ID_NUMBER not in caplog.text
    assert PHONE not in caplog.text


def test_traceback_is_masked_through_a_handler():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    handler.addFilter(PersonalDataMaskingFilter())
    logger = logging.getLogger("yunzheng.tests.masking.handler")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        try:
            raise ValueError(f"duplicate id number {ID_NUMBER}")
        except ValueError:
            logger.exception("import failed for %s", PHONE)
        logger.info("plain line without personal data")
    finally:
        logger.removeHandler(handler)
        logger.propagate = True

    output = stream.getvalue()
    assert "ERROR import failed for 138****5678" in output
    assert "ValueError: duplicate id number 1101**********1237" in output
    assert ID_NUMBER not in output
    assert PHONE not in output
    assert "INFO plain line without personal data" in output


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tel +86 138-1234-5678.", "tel +86 138******5678."),
        ("tel 8613812345678", "tel 86138****5678"),
        ("ids 110101199003071237,11010519491231002X", "ids 1101**********1237,1101**********002X"),
        # Not personal data: wrong lengths or prefixes stay as they are.
        ("order 1101011990030712379", "order 1101011990030712379"),
        ("ts 20240307123456 port 12812345678", "ts 20240307123456 port 12812345678"),
        ("trace 138123456789", "trace 138123456789"),
    ],
)
def test_mask_personal_data(text, expected):
    assert mask_personal_data(text) == expected


def test_filter_never_drops_records():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "nothing %s", ("here",), None)
    assert PersonalDataMaskingFilter().filter(record) is True
    assert record.getMessage() == "nothing here"


def test_broken_format_string_is_logged_masked_instead_of_failing(masked_logger, caplog):
    with caplog.at_level(logging.INFO, logger="yunzheng.tests.masking"):
        masked_logger.info("applicant %s %s", ID_NUMBER)  # one argument short
    assert ID_NUMBER not in caplog.text
    assert "applicant %s %s ('1101**********1237',)" in caplog.text
