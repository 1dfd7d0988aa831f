"""The region registry: provinces and prefecture-level cities of GB/T 2260, for choosing a region
from a list (people never type six-digit codes).

Data source: the `cn/loc` table bundled with python-stdnum (the same data `core.ids` checks codes
against). Abolished codes (marked "[-2010]" there) are left out of the lists; they still count as
valid codes for old documents.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

from django import forms
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from stdnum import numdb

# Beijing, Tianjin, Shanghai, Chongqing: cities at province level.
MUNICIPALITIES = frozenset({"11", "12", "31", "50"})

_VALIDITY = re.compile(r"^\[[^\]]*\]")
# Rows that group counties and are not cities ("市辖区", "县", "省直辖县级行政区划", ...).
_CITY_SUFFIXES = ("市", "州", "盟", "地区")
_NOT_A_CITY = ("市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划")


@dataclass(frozen=True)
class Region:
    code: str  # six digits
    name: str  # e.g. "杭州市"
    province: str  # e.g. "浙江省"

    @property
    def label(self) -> str:
        """What a list shows: "浙江省 杭州市" (a municipality: its own name once)."""
        return self.name if self.name == self.province else f"{self.province} {self.name}"


def _in_use(raw: str) -> bool:
    return not re.match(r"^\[[^\]]*-\d*\]", raw) or bool(re.match(r"^\[\d+-\]", raw))


@functools.cache
def _table() -> tuple[tuple[Region, ...], tuple[Region, ...]]:
    provinces: list[Region] = []
    cities: list[Region] = []
    for _length, low, _high, props, children in numdb.get("cn/loc").prefixes:
        province = _VALIDITY.sub("", props.get("province", ""))
        if not province or not _in_use(props.get("province", "")):
            continue
        provinces.append(Region(low + "0000", province, province))
        for _clen, child, _chigh, child_props, _grand in children:
            raw = child_props.get("county", "")
            if len(child) != 4 or not child.endswith("00") or child == "0000" or not _in_use(raw):
                continue
            name = _VALIDITY.sub("", raw)
            if name in _NOT_A_CITY or child.startswith("9") or not name.endswith(_CITY_SUFFIXES):
                continue
            cities.append(Region(low + child, name, province))
    return tuple(provinces), tuple(cities)


def provinces(prefix: str = "") -> list[Region]:
    """Province-level divisions whose code starts with `prefix` ("" : all 34)."""
    return [r for r in _table()[0] if r.code.startswith(prefix[:2])]


def cities(prefix: str = "", *, municipalities_as_province: bool = False) -> list[Region]:
    """Prefecture-level cities whose code starts with `prefix` ("", "33", "3301"...).

    A municipality (Beijing...) is one city: with `municipalities_as_province` it is listed under
    its province-level code (110000, how the traffic police and staff scopes name it), otherwise
    under its first city-level code (110100, how licensing quotas name it)."""
    listed: list[Region] = []
    for region in _table()[1]:
        if region.code[:2] in MUNICIPALITIES:
            continue
        if region.code.startswith(prefix):
            listed.append(region)
    for province in _table()[0]:
        if province.code[:2] not in MUNICIPALITIES:
            continue
        code = province.code if municipalities_as_province else province.code[:2] + "0100"
        if code.startswith(prefix) or (province.code.startswith(prefix[:2]) and len(prefix) <= 2):
            listed.append(Region(code, province.name, province.name))
    return sorted(listed, key=lambda r: r.code)


def choices(regions: list[Region]) -> list[tuple[str, str]]:
    """(code, label) pairs for a <select>."""
    return [(r.code, r.label) for r in regions]


def grouped_choices(regions: list[Region]) -> list[tuple[str, list[tuple[str, str]]]]:
    """(province, [(code, name), ...]) for a <select> with one <optgroup> per province, in the
    order given (a municipality is a group of its own)."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for region in regions:
        groups.setdefault(region.province, []).append((region.code, region.name))
    return list(groups.items())


class RegionChoiceField(forms.ChoiceField):
    """A region chosen from a list (grouped by province), never a typed code: a code that is not
    in the list is refused as the field's error `invalid_choice`."""

    default_error_messages = {
        "invalid_choice": _("Choose a city from the list."),
        "required": _("Choose a city."),
    }

    def __init__(self, *, regions: list[Region], blank: str | Promise | None = None, **kwargs: Any) -> None:
        choices: list[Any] = [("", blank)] if blank is not None else []
        super().__init__(choices=choices + grouped_choices(regions), **kwargs)

    def set_regions(self, regions: list[Region], *, blank: str | Promise | None = None) -> None:
        """Narrow the list (e.g. to a staff member's province) once the form knows who fills it."""
        choices: list[Any] = [("", blank)] if blank is not None else []
        self.choices = choices + grouped_choices(regions)
