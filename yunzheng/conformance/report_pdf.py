"""The campaign report as PDF (WeasyPrint, Noto Sans CJK SC - also in the page margin boxes).

Always in Chinese, the language of the documents the ministry files, whatever the viewer's language.
Built from the kept report snapshots of the closed cycles, so a report printed years later shows
what was graded then.
"""

from __future__ import annotations

from typing import Any

from django.template.loader import render_to_string
from django.utils import timezone, translation

from yunzheng.conformance.models import Campaign
from yunzheng.conformance.selectors import campaign_comparison


def campaign_report_html(campaign: Campaign) -> str:
    cycles = list(campaign.cycles.order_by("number"))
    details: list[dict[str, Any]] = []
    for cycle in cycles:
        report = cycle.report or {}
        if cycle.kind == "connectivity":
            failing = [row for row in report.get("interfaces", []) if row["status"] != "pass"]
            details.append({"cycle": cycle, "report": report, "interfaces": failing})
        else:
            failing_checks = [c for c in report.get("checks", []) if c["status"] == "fail"]
            details.append({"cycle": cycle, "report": report, "checks": failing_checks})
    with translation.override("zh-hans"):
        return render_to_string(
            "conformance/report_pdf.html",
            {
                "campaign": campaign,
                "company": campaign.company,
                "cycles": cycles,
                "details": details,
                "comparison": campaign_comparison(campaign),
                "printed_at": timezone.localtime(),
            },
        )


def campaign_pdf(campaign: Campaign) -> bytes:
    from weasyprint import HTML  # heavy import: only when a PDF is asked for

    return bytes(HTML(string=campaign_report_html(campaign)).write_pdf())
