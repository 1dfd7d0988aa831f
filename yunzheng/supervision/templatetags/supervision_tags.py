"""Formatting for the supervision pages: rates as percentages, changes in points, counts."""

from __future__ import annotations

from typing import Any

from django import template

from yunzheng.supervision.bulletin import big_number

register = template.Library()


@register.filter
def pct(value: Any) -> str:
    """0.775 -> "77.50%"; None -> "—"."""
    if value is None or value == "":
        return "—"
    return f"{float(value) * 100:.2f}%"


@register.filter
def points(value: Any) -> str:
    """A change in percentage points, signed: "+30.00"."""
    if value is None or value == "":
        return "—"
    return f"{float(value):+.2f}"


@register.filter
def count(value: Any) -> str:
    """Orders as the bulletin writes them (万/亿 in Chinese)."""
    return big_number(int(value or 0))


@register.filter
def yyyymm(value: Any) -> str:
    return value.strftime("%Y-%m") if value else ""
