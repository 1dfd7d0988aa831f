"""Identifiers people type into forms: resident ID numbers, credit codes, mobile numbers.

Checksums and region data come from python-stdnum (`stdnum.cn.ric`, `stdnum.cn.uscc`); this module
adds what the ministry interface needs on top: one stable error code per rule, and a precise
complaint about full-width or look-alike characters, which that interface rejects outright.
"""

from __future__ import annotations

import datetime
import functools
import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Literal

from django.utils.translation import gettext_lazy as _
from stdnum import numdb
from stdnum.cn import ric, uscc
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength

from yunzheng.core.errors import ValidationFailed

# --------------------------------------------------------------------------------------------
# Half-width (printable ASCII) checks
# --------------------------------------------------------------------------------------------

# Look-alikes that NFKC leaves alone but people paste into code fields (Chinese IMEs, Word, PDFs).
# Hand-written because no project dependency maps them: the maintained TR39 package
# `confusable-homoglyphs` covers the dashes and Latin look-alikes but has nothing for 。 and 、 and
# maps “ to two apostrophes; `anyascii` transliterates (Cyrillic Р -> "R", 张 -> "Zhang"), which is
# the wrong answer for "which key did you mean to press".
_LOOKALIKES: dict[str, str] = {
    "\u00a0": " ",  # NO-BREAK SPACE
    "\u2010": "-",  # HYPHEN
    "\u2011": "-",  # NON-BREAKING HYPHEN
    "\u2012": "-",  # FIGURE DASH
    "\u2013": "-",  # EN DASH
    "\u2014": "-",  # EM DASH
    "\u2015": "-",  # HORIZONTAL BAR
    "\u2212": "-",  # MINUS SIGN
    "\u2018": "'",
    "\u2019": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u3001": ",",  # IDEOGRAPHIC COMMA
    "\u3002": ".",  # IDEOGRAPHIC FULL STOP
    # Cyrillic and Greek capitals/smalls drawn exactly like Latin letters.
    "\u0410": "A",
    "\u0412": "B",
    "\u0415": "E",
    "\u041a": "K",
    "\u041c": "M",
    "\u041d": "H",
    "\u041e": "O",
    "\u0420": "P",
    "\u0421": "C",
    "\u0422": "T",
    "\u0425": "X",
    "\u0430": "a",
    "\u0435": "e",
    "\u043e": "o",
    "\u0440": "p",
    "\u0441": "c",
    "\u0445": "x",
    "\u0391": "A",
    "\u0392": "B",
    "\u0395": "E",
    "\u0397": "H",
    "\u039a": "K",
    "\u039c": "M",
    "\u039d": "N",
    "\u039f": "O",
    "\u03a1": "P",
    "\u03a4": "T",
    "\u03a7": "X",
    "\u03bf": "o",
}


@dataclass(frozen=True)
class NonHalfwidthChar:
    """One character outside printable ASCII, and what the user probably meant to type."""

    index: int  # 0-based position in the checked string
    char: str
    name: str  # Unicode character name, or "U+XXXX" for unnamed (control) characters
    suggestion: str | None  # printable-ASCII replacement, None when there is no obvious one

    @property
    def position(self) -> int:
        """1-based position, as shown to people."""
        return self.index + 1

    def as_params(self) -> dict[str, Any]:
        return {
            "position": self.position,
            "char": self.char,
            "name": self.name,
            "suggestion": self.suggestion,
        }


def _halfwidth_suggestion(char: str) -> str | None:
    normalised = unicodedata.normalize("NFKC", char)
    if normalised and _is_printable_ascii(normalised):
        return normalised
    return _LOOKALIKES.get(char)


def _is_printable_ascii(value: str) -> bool:
    return all(" " <= char <= "~" for char in value)


def find_non_halfwidth(value: str) -> list[NonHalfwidthChar]:
    """Every character of `value` that is not printable ASCII (0x20-0x7E), in order."""
    return [
        NonHalfwidthChar(
            index=index,
            char=char,
            name=unicodedata.name(char, f"U+{ord(char):04X}"),
            suggestion=_halfwidth_suggestion(char),
        )
        for index, char in enumerate(value)
        if not " " <= char <= "~"
    ]


def _halfwidth_message(offender: NonHalfwidthChar) -> str:
    if offender.suggestion is not None:
        return (
            _(
                "Character “%(char)s” at position %(position)s is a full-width or look-alike character; "
                "type “%(suggestion)s” instead."
            )
            % offender.as_params()
        )
    return _("Character “%(char)s” at position %(position)s is not allowed here.") % offender.as_params()


def require_halfwidth(value: str, *, field: str) -> str:
    """Return `value` unchanged if it is all printable ASCII, otherwise explain the first offender."""
    offenders = find_non_halfwidth(value)
    if not offenders:
        return value
    first = offenders[0]
    raise ValidationFailed.single(
        field=field,
        code="halfwidth.required",
        message=_halfwidth_message(first),
        **first.as_params(),
        offenders=[offender.as_params() for offender in offenders],
    )


def _reject_non_ascii(value: str, *, field: str, prefix: str) -> None:
    """Shared first step of the number validators: full-width digits get their own code."""
    offenders = find_non_halfwidth(value)
    if not offenders:
        return
    first = offenders[0]
    if first.suggestion is not None:
        raise ValidationFailed.single(
            field=field, code=f"{prefix}.fullwidth", message=_halfwidth_message(first), **first.as_params()
        )
    raise ValidationFailed.single(
        field=field, code=f"{prefix}.format", message=_halfwidth_message(first), **first.as_params()
    )


# --------------------------------------------------------------------------------------------
# Administrative division codes (GB/T 2260)
# --------------------------------------------------------------------------------------------

_REGION_CODE = re.compile(r"\d{6}")


@functools.lru_cache(maxsize=8192)  # a static table: bulk imports look the same codes up again and again
def _region_entries(code: str) -> tuple[str, str] | None:
    """(province, raw county field) from stdnum's `cn/loc` database, or None if not listed."""
    info = {key: value for _part, props in numdb.get("cn/loc").info(code) for key, value in props.items()}
    if "county" not in info:
        return None
    return info.get("province", ""), info["county"]


def region_code_exists(code: str) -> bool:
    """Whether `code` is a GB/T 2260 county-level code that was ever assigned.

    Data source: the `cn/loc.dat` table bundled with python-stdnum (compiled from the Wikipedia
    lists of PRC administrative division codes, with validity years for abolished codes). Codes
    abolished since (e.g. 110103 Chongwen, merged in 2010) still count: ID numbers issued under
    them remain valid for life.
    """
    return bool(_REGION_CODE.fullmatch(code)) and _region_entries(code) is not None


def _region_name(province: str, county: str) -> str:
    # Municipality-level rows repeat the province ("北京市" / "北京市"); don't print it twice.
    return county if county.startswith(province) else province + county


# --------------------------------------------------------------------------------------------
# Resident identity card number (GB 11643)
# --------------------------------------------------------------------------------------------

# Nobody alive was born before this; earlier dates in an 18-digit number are typing errors.
_EARLIEST_BIRTH_DATE = datetime.date(1900, 1, 1)
_RESIDENT_ID_SHAPE = re.compile(r"\d{17}[\dX]")


@dataclass(frozen=True)
class ResidentId:
    number: str  # 18 characters, check character upper-case
    birth_date: datetime.date
    region_code: str  # GB/T 2260 code of the place of household registration at issue
    gender: Literal["M", "F"]
    region_name: str  # province + county, e.g. "北京市朝阳区" (stdnum has no prefecture level)


def validate_resident_id(value: str, *, field: str = "id_number") -> ResidentId:
    """Validate an 18-character PRC resident ID number and decode what it says."""
    number = value.strip()
    _reject_non_ascii(number, field=field, prefix="id_number")
    number = number.upper()  # a lower-case check character x is common and harmless
    if len(number) != 18:
        raise ValidationFailed.single(
            field=field,
            code="id_number.format",
            message=_("An ID number has 18 characters; this one has %(length)s.") % {"length": len(number)},
            length=len(number),
        )
    if not _RESIDENT_ID_SHAPE.fullmatch(number):
        raise ValidationFailed.single(
            field=field,
            code="id_number.format",
            message=_("An ID number is 17 digits followed by a digit or X."),
        )
    expected_check = ric.calc_check_digit(number)
    if number[-1] != expected_check:
        raise ValidationFailed.single(
            field=field,
            code="id_number.checksum",
            message=_("The ID number's check character does not match; please check each digit."),
        )
    try:
        birth_date = ric.get_birth_date(number)
    except InvalidComponent:
        birth_date = None
    if birth_date is None or not _EARLIEST_BIRTH_DATE <= birth_date <= datetime.date.today():
        raise ValidationFailed.single(
            field=field,
            code="id_number.birth_date",
            message=_("The birth date in the ID number (%(digits)s) is not a possible date.")
            % {"digits": number[6:14]},
            digits=number[6:14],
        )
    try:
        birth_place = ric.get_birth_place(number)
    # stdnum 2.2 raises KeyError instead of InvalidComponent when the province is known but the
    # county is not (e.g. 110199); both mean "unknown region".
    except (InvalidComponent, KeyError):
        raise ValidationFailed.single(
            field=field,
            code="id_number.region",
            message=_("The region code %(region_code)s in the ID number is not a known administrative area.")
            % {"region_code": number[:6]},
            region_code=number[:6],
        ) from None
    return ResidentId(
        number=number,
        birth_date=birth_date,
        region_code=number[:6],
        gender="M" if int(number[16]) % 2 else "F",
        region_name=_region_name(birth_place.get("province", ""), birth_place["county"]),
    )


# --------------------------------------------------------------------------------------------
# Unified social credit code (GB 32100)
# --------------------------------------------------------------------------------------------


def validate_credit_code(value: str, *, field: str = "credit_code") -> str:
    """Validate an 18-character unified social credit code; returns it compact and upper-case."""
    code = value.strip()
    _reject_non_ascii(code, field=field, prefix="credit_code")
    try:
        return str(uscc.validate(code))
    except (InvalidLength, InvalidFormat):
        raise ValidationFailed.single(
            field=field,
            code="credit_code.format",
            message=_(
                "A unified social credit code has 18 characters: 8 digits, then digits or capital "
                "letters except I, O, S, V and Z."
            ),
        ) from None
    except InvalidChecksum:
        raise ValidationFailed.single(
            field=field,
            code="credit_code.checksum",
            message=_("The credit code's check character does not match; please check each character."),
        ) from None


# --------------------------------------------------------------------------------------------
# Mainland mobile numbers
# --------------------------------------------------------------------------------------------

_MOBILE = re.compile(r"(?:\+?86)?(1[3-9]\d{9})")


def validate_mobile(value: str, *, field: str = "phone") -> str:
    """Validate a mainland mobile number; returns its 11 digits without prefix or separators."""
    phone = value.strip()
    _reject_non_ascii(phone, field=field, prefix="phone")
    match = _MOBILE.fullmatch(re.sub(r"[ \-]", "", phone))
    if match is None:
        raise ValidationFailed.single(
            field=field,
            code="phone.format",
            message=_("Enter a mainland mobile number: 11 digits starting with 13 to 19."),
        )
    return match.group(1)
