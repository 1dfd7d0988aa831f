"""Reference tables the interface spec points to but does not contain.

* GB/T 2260 administrative division codes (行政区划代码): the data source is the region table that
  python-stdnum ships for ``stdnum.cn.ric`` (``stdnum/cn/loc.dat``, compiled from the Wikipedia
  lists of PRC division codes). It includes historical codes (entries such as ``[-2010]崇文区``),
  which we accept too: records about older licences, and platforms with stale tables, legitimately
  carry codes that have since been abolished. Updating python-stdnum updates the table.
* Province abbreviations used as the first character of motor-vehicle plates (GA 36).
"""

from __future__ import annotations

import functools
from importlib import resources

#: The 31 mainland province-level abbreviations that start a civil plate number (GA 36-2018).
PLATE_PROVINCES: frozenset[str] = frozenset("京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼")


def _parse_loc_dat(lines: list[str]) -> frozenset[int]:
    """Parse stdnum's two-level prefix file: ``11 province=..`` then indented ``0101 county=..``."""
    codes: set[int] = set()
    province = ""
    for raw in lines:
        if not raw.strip() or raw.startswith("#"):
            continue
        prefix = raw.split(None, 1)[0]
        if not raw[0].isspace():
            province = prefix
            if len(province) == 2 and province.isdigit():
                codes.add(int(province + "0000"))
        elif len(prefix) == 4 and prefix.isdigit() and province:
            codes.add(int(province + prefix))
    return frozenset(codes)


@functools.cache
def region_codes() -> frozenset[int]:
    """All GB/T 2260 codes (province, prefecture and county level; current and historical)."""
    text = resources.files("stdnum").joinpath("cn", "loc.dat").read_text(encoding="utf-8")
    codes = _parse_loc_dat(text.splitlines())
    if len(codes) < 3000:  # pragma: no cover - would mean stdnum changed its data format
        raise RuntimeError(f"stdnum/cn/loc.dat yielded only {len(codes)} region codes")
    return codes
