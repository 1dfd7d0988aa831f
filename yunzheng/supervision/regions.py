"""GB/T 2260 region arithmetic and approximate city extents.

Orders carry a county-level code (e.g. 330106 西湖区); the ministry ranks prefecture-level
cities (330100 杭州市) and provinces (330000 浙江省). A staff member's scope is a prefix ("" the
ministry, "33" a province, "3301" a city), which becomes an integer range over ``city_code``.

``CITY_BOUNDS`` are rough bounding boxes of the administrative areas (not the urban core), in
micro-degrees. They serve two purposes: flagging positions far outside the city a company reports
(a swapped coordinate, 0/0, another city) and framing the map of a region. Extend or correct
them with the setting ``SUPERVISION_REGION_BOUNDS`` ({"330100": [lon_min, lon_max, lat_min,
lat_max] in degrees}).
"""

from __future__ import annotations

from dataclasses import dataclass

from yunzheng.accounts.scopes import region_name
from yunzheng.supervision.conf import app_settings


@dataclass(frozen=True)
class Bounds:
    lon_min: int  # degrees x 10^6
    lon_max: int
    lat_min: int
    lat_max: int

    def contains(self, lon: int, lat: int) -> bool:
        return self.lon_min <= lon <= self.lon_max and self.lat_min <= lat <= self.lat_max

    def as_degrees(self) -> dict[str, float]:
        return {
            "lon_min": self.lon_min / 1e6,
            "lon_max": self.lon_max / 1e6,
            "lat_min": self.lat_min / 1e6,
            "lat_max": self.lat_max / 1e6,
        }


def _b(lon_min: float, lon_max: float, lat_min: float, lat_max: float) -> Bounds:
    return Bounds(round(lon_min * 1e6), round(lon_max * 1e6), round(lat_min * 1e6), round(lat_max * 1e6))


# Approximate extents (degrees), rounded outwards.
_BUILTIN_BOUNDS: dict[int, Bounds] = {
    110100: _b(115.4, 117.6, 39.4, 41.1),  # 北京市
    120100: _b(116.7, 118.1, 38.5, 40.3),  # 天津市
    310100: _b(120.8, 122.2, 30.6, 31.9),  # 上海市
    320100: _b(118.3, 119.3, 31.2, 32.7),  # 南京市
    320500: _b(119.9, 121.4, 30.7, 32.1),  # 苏州市
    330100: _b(118.3, 120.8, 29.1, 30.6),  # 杭州市
    330200: _b(120.9, 122.3, 28.8, 30.4),  # 宁波市
    330300: _b(119.6, 121.3, 27.0, 28.6),  # 温州市
    330400: _b(120.3, 121.3, 30.3, 31.1),  # 嘉兴市
    330500: _b(119.2, 120.5, 30.3, 31.2),  # 湖州市
    330600: _b(119.8, 121.3, 29.2, 30.3),  # 绍兴市
    330700: _b(119.2, 120.8, 28.5, 29.7),  # 金华市
    420100: _b(113.6, 115.1, 29.9, 31.4),  # 武汉市
    440100: _b(112.9, 114.1, 22.5, 24.0),  # 广州市
    440300: _b(113.7, 114.7, 22.4, 22.9),  # 深圳市
    500100: _b(105.2, 110.2, 28.1, 32.3),  # 重庆市
    510100: _b(102.9, 104.9, 30.0, 31.5),  # 成都市
    610100: _b(107.6, 109.9, 33.7, 34.8),  # 西安市
    330000: _b(118.0, 123.2, 27.0, 31.2),  # 浙江省
}


def province_of(code: int) -> int:
    return code // 10000 * 10000


def prefix_range(prefix: str) -> tuple[int, int] | None:
    """Integer bounds of the 6-digit codes under ``prefix``; None for the whole country."""
    if not prefix:
        return None
    return int(prefix.ljust(6, "0")), int(prefix.ljust(6, "9"))


def name_of(code: int | str) -> str:
    text = f"{int(code):06d}" if str(code).isdigit() else ""
    return region_name(text) or text


def bounds_of(code: int) -> Bounds | None:
    """Extent of a city (or province) code: the setting first, then the built-in table."""
    custom = app_settings.SUPERVISION_REGION_BOUNDS or {}
    raw = custom.get(str(code)) or custom.get(code)
    if raw:
        return _b(*(float(v) for v in raw))
    return _BUILTIN_BOUNDS.get(code)


def known_city_bounds() -> dict[int, Bounds]:
    custom = app_settings.SUPERVISION_REGION_BOUNDS or {}
    out = {code: b for code, b in _BUILTIN_BOUNDS.items() if code % 10000}
    for key, raw in custom.items():
        code = int(key)
        if code % 10000:
            out[code] = _b(*(float(v) for v in raw))
    return out


def bounds_for_prefix(prefix: str) -> Bounds | None:
    """The map frame of a staff scope: the city's, the province's, else None (fit the data)."""
    if len(prefix) == 4:
        return bounds_of(int(prefix + "00"))
    if len(prefix) == 2:
        return bounds_of(int(prefix + "0000"))
    return None
