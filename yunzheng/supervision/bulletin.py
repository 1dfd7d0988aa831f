"""The monthly bulletin in the ministry's format, as a page and a PDF (WeasyPrint).

The wording follows the ministry's monthly press release on ride-hailing supervision data: the
number of licensed platforms and of drivers' and vehicles' certificates at the end of the month,
the orders received by the supervision information exchange, the month-on-month change, and the
ranking tables (platforms by volume with their compliance rates, aggregators separately,
cities). Everything is generated from ``selectors.bulletin``.
"""

from __future__ import annotations

from typing import Any

from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from yunzheng.supervision.selectors import Bulletin


def big_number(n: int) -> str:
    """Counts the way Chinese bulletins write them (万, 亿); plain digits in English."""
    if translation.get_language() and translation.get_language().startswith("zh"):
        if n >= 100_000_000:
            return f"{n / 100_000_000:.2f}亿"
        if n >= 10_000:
            return f"{n / 10_000:.2f}万"
        return f"{n}"
    return f"{n:,}"


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.2f}%"


def paragraphs(b: Bulletin) -> list[str]:
    """The bulletin's text, in the active language."""
    region = b.scope.label
    out = [
        _(
            "As of %(date)s, %(region)s had %(platforms)s ride-hailing platform companies with an "
            "operating licence, %(drivers)s valid ride-hailing driver's certificates and "
            "%(vehicles)s valid ride-hailing vehicle transport certificates."
        )
        % {
            "date": b.as_of.strftime("%Y-%m-%d")
            if not _zh()
            else f"{b.as_of.year}年{b.as_of.month}月{b.as_of.day}日",
            "region": region,
            "platforms": big_number(b.platforms_licensed),
            "drivers": big_number(b.drivers_licensed),
            "vehicles": big_number(b.vehicles_licensed),
        }
    ]
    month = f"{b.month.year}年{b.month.month}月" if _zh() else b.month.strftime("%Y-%m")
    change = b.change_orders
    if change is None:
        trend = ""
    elif change >= 0:
        trend = _(", up %(change)s on the previous month") % {"change": percent(change)}
    else:
        trend = _(", down %(change)s on the previous month") % {"change": percent(-change)}
    out.append(
        _(
            "In %(month)s the ride-hailing supervision information exchange received %(orders)s "
            "completed orders%(trend)s; %(rate)s of them were served by a licensed driver in a "
            "licensed vehicle (order compliance rate)."
        )
        % {
            "month": month,
            "orders": big_number(b.total.orders),
            "trend": trend,
            "rate": percent(b.total.rate),
        }
    )
    if b.top_compliance:
        names = (
            "、".join(r.label for r in b.top_compliance)
            if _zh()
            else ", ".join(r.label for r in b.top_compliance)
        )
        out.append(_("Platforms with the highest order compliance rates: %(names)s.") % {"names": names})
    if b.movers.risers or b.movers.fallers:
        parts = []
        if b.movers.risers:
            top = b.movers.risers[0]
            parts.append(
                _("%(name)s improved most (%(change)+.2f points)")
                % {"name": top.label, "change": top.change_points}
            )
        if b.movers.fallers:
            low = b.movers.fallers[0]
            parts.append(
                _("%(name)s fell most (%(change)+.2f points)")
                % {"name": low.label, "change": low.change_points}
            )
        out.append(
            _("Month on month, %(parts)s.") % {"parts": "；".join(parts) if _zh() else "; ".join(parts)}
        )
    return [str(p) for p in out]


def _zh() -> bool:
    return bool(translation.get_language() and translation.get_language().startswith("zh"))


def context(b: Bulletin) -> dict[str, Any]:
    return {"b": b, "paragraphs": paragraphs(b), "month_label": f"{b.month.year}年{b.month.month}月"}


def render_pdf(b: Bulletin) -> bytes:
    """The bulletin as an A4 PDF, always in Chinese (the ministry's format)."""
    from weasyprint import HTML  # heavy import: only when a PDF is asked for

    with translation.override("zh-hans"):
        html = render_to_string("supervision/bulletin_pdf.html", context(b))
    return bytes(HTML(string=html).write_pdf())
