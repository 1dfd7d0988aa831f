"""Small template helpers of the licensing pages."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def absolute(value: int | None) -> int | None:
    """|absolute: the size of a day count (overdue days are negative in the selectors)."""
    return None if value is None else abs(value)
