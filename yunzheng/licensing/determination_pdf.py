"""The online-service-capability determination as a PDF (WeasyPrint, like the bulletin and the
conformance report), always in Chinese: the document a local licence application refers to."""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils import translation

from yunzheng.accounts.scopes import region_name
from yunzheng.licensing.conf import app_settings
from yunzheng.licensing.models import CapabilityDetermination


def determination_html(determination: CapabilityDetermination) -> str:
    with translation.override("zh-hans"):
        return render_to_string(
            "licensing/determination_pdf.html",
            {
                "d": determination,
                "province": region_name(determination.province_code) or determination.province_code,
                "valid_years": int(app_settings.LICENSING_DETERMINATION_VALID_YEARS),
            },
        )


def determination_pdf(determination: CapabilityDetermination) -> bytes:
    from weasyprint import HTML  # heavy import: only when a PDF is asked for

    return bytes(HTML(string=determination_html(determination)).write_pdf())
