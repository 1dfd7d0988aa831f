"""How a licence looks: display rows for pages, the QR image, the PNG card and the PDF.

Documents (PNG, PDF) are always in Chinese, the language of the licence itself, whatever the
viewer's language. Fonts: Noto Sans CJK SC (Debian `fonts-noto-cjk`), embedded in the PDF by
WeasyPrint; the path is ELICENSE_CJK_FONT_PATH (a .ttc: index 2 is Simplified Chinese).
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from functools import cache
from typing import Any

import segno
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from PIL import Image, ImageDraw, ImageFont

from yunzheng.accounts.scopes import region_name
from yunzheng.core.crypto import mask_id_number
from yunzheng.core.http import file_response
from yunzheng.elicense.conf import app_settings
from yunzheng.elicense.models import ElectronicLicence
from yunzheng.elicense.services import SignedPayload

SIMPLIFIED_CHINESE_FACE = 2
QR_ERROR_LEVEL = "m"


def _data_labels() -> dict[str, str]:
    return {
        "certificate_number": pgettext("elicense", "Certificate number"),
        "plate": _("Plate number"),
        "plate_colour": _("Plate colour"),
        "pass_type": _("Pass type"),
        "sections": _("Permitted road sections"),
        "times": _("Permitted times"),
        "scope": _("Business scope"),
        "categories": _("Qualification categories"),
        "grade": _("Credit grade"),
        "period": _("Assessment period"),
        "last_inspection_on": _("Last annual inspection"),
        "application": _("Application number"),
        "issuing_authority": _("Issuing authority"),
        "first_issued_on": _("First issued on"),
        "service_unit": _("Service unit"),
        "cycle_year": _("Assessment year"),
        "authority": _("Assessed by"),
        "area": _("Operating area"),
        "kind": pgettext("elicense", "Licence kind"),
        "credit_code": _("Unified social credit code"),
    }


# Bookkeeping keys registries keep in `data` that are not part of the licence as shown; keys
# starting with "_" are never shown either.
HIDDEN_DATA_KEYS = frozenset({"pass_type_code", "registry_version"})


@dataclass(frozen=True)
class Row:
    label: str
    value: str


def _value(value: Any) -> str:
    if isinstance(value, list):
        return "；".join(str(item) for item in value)
    return str(value)


def licence_rows(licence: ElectronicLicence, *, full: bool, full_id: bool = False) -> list[Row]:
    """Label/value rows. Without `full` (public verification) only the masked essentials; with it
    (the holder, staff, a consented third party) the holder's name and every detail. The ID number
    is shown in full only with `full_id` (a share code redeemed), masked otherwise."""
    holder = licence.holder_name if full else licence.holder_display
    rows = [
        Row(pgettext("elicense", "Licence number"), licence.lid),
        Row(_("Type"), str(licence.get_licence_type_display())),
        Row(_("Holder"), holder),
    ]
    if licence.holder_id_number and (full or licence.holder_kind == ElectronicLicence.HolderKind.PERSON):
        shown = licence.holder_id_number if full_id else mask_id_number(licence.holder_id_number)
        rows.append(Row(_("Holder ID number"), shown))
    labels = _data_labels()
    for key, value in licence.data.items():
        if key in HIDDEN_DATA_KEYS or key.startswith("_") or value in ("", None, []):
            continue
        if not full and key not in labels:
            continue
        rows.append(Row(labels.get(key, key), _value(value)))
    rows += [
        Row(_("Issued by"), region_name(licence.issuer_region) or licence.issuer_region),
        Row(_("Validity period"), f"{licence.valid_from:%Y-%m-%d} — {licence.valid_until:%Y-%m-%d}"),
        Row(_("Status"), str(licence.get_status_display())),
        Row(_("Version"), str(licence.version)),
    ]
    return rows


# --------------------------------------------------------------------------------------------
# QR
# --------------------------------------------------------------------------------------------


def make_qr(text: str) -> segno.QRCode:
    return segno.make(text, error=QR_ERROR_LEVEL, micro=False)


def qr_png(text: str, *, scale: int = 8) -> bytes:
    buffer = io.BytesIO()
    make_qr(text).save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()


def qr_data_uri(text: str, *, scale: int = 8) -> str:
    return "data:image/png;base64," + base64.b64encode(qr_png(text, scale=scale)).decode("ascii")


# --------------------------------------------------------------------------------------------
# PNG card
# --------------------------------------------------------------------------------------------


@cache
def _font(size: int) -> ImageFont.FreeTypeFont:
    path = str(app_settings.ELICENSE_CJK_FONT_PATH)
    index = SIMPLIFIED_CHINESE_FACE if path.endswith(".ttc") else 0
    return ImageFont.truetype(path, size, index=index)


def _wrap(draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    lines, current = [], ""
    for char in text:
        if draw.textlength(current + char, font=font) > width and current:
            lines.append(current)
            current = char
        else:
            current += char
    return [*lines, current] if current else lines


def licence_png(licence: ElectronicLicence, signed: SignedPayload, *, qr_text: str) -> bytes:
    """A card-like image (1400 px wide) with the details on the left and the QR on the right."""
    with translation.override("zh-hans"):
        rows = licence_rows(licence, full=True)
        title = str(licence.get_licence_type_display())
        footer = _("Scan to verify. Signed %(date)s with key %(kid)s.") % {
            "date": signed.claims.signed_on.isoformat(),
            "kid": signed.kid,
        }
    qr = Image.open(io.BytesIO(qr_png(qr_text, scale=10))).convert("RGB")
    qr_size = 560
    qr = qr.resize((qr_size, qr_size), Image.Resampling.NEAREST)
    width, padding, text_width = 1400, 48, 1400 - 560 - 3 * 48
    scratch = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    label_font, value_font, title_font, small = _font(26), _font(30), _font(44), _font(22)
    laid_out = [(row, _wrap(scratch, row.value, value_font, text_width - 220)) for row in rows]
    body_height = sum(max(1, len(lines)) * 42 + 12 for _row, lines in laid_out)
    height = max(130 + padding + body_height, 130 + padding + qr_size) + 110
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle([0, 0, width, 110], fill="#1552a8")
    draw.text((padding, 28), title, font=title_font, fill="white")
    draw.rectangle([2, 2, width - 3, height - 3], outline="#1552a8", width=4)
    y = 130 + padding
    for row, lines in laid_out:
        draw.text((padding, y + 4), row.label, font=label_font, fill="#646a73")
        for line in lines or [""]:
            draw.text((padding + 220, y), line, font=value_font, fill="#1f2329")
            y += 42
        y += 12
    image.paste(qr, (width - qr_size - padding, 130 + padding // 2))
    draw.text((padding, height - 70), footer, font=small, fill="#646a73")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


# --------------------------------------------------------------------------------------------
# PDF
# --------------------------------------------------------------------------------------------


def licence_pdf(licence: ElectronicLicence, signed: SignedPayload, *, qr_text: str) -> bytes:
    """One print-friendly A4 page (even for a long record); the QR is a crisp PNG 62 mm wide."""
    from weasyprint import HTML  # heavy import: only when a PDF is asked for

    with translation.override("zh-hans"):
        html = render_to_string(
            "elicense/licence_pdf.html",
            {
                "licence": licence,
                "rows": licence_rows(licence, full=True),
                "qr": qr_data_uri(qr_text, scale=10),
                "signed": signed,
                "title": licence.get_licence_type_display(),
            },
        )
    return bytes(HTML(string=html).write_pdf())


def licence_download(
    licence: ElectronicLicence, signed: SignedPayload, *, base_url: str, kind: str
) -> HttpResponse:
    """The licence as a PDF (`kind` "pdf") or PNG file download, named after its LID; its QR
    links to the verification page under `base_url`."""
    qr_text = signed.qr_text(base_url)
    if kind == "pdf":
        content, content_type = licence_pdf(licence, signed, qr_text=qr_text), "application/pdf"
    else:
        content, content_type = licence_png(licence, signed, qr_text=qr_text), "image/png"
    return file_response(content, content_type=content_type, filename=f"{licence.lid}.{kind}")


def public_base_url(request: HttpRequest) -> str:
    """Where the QR link points: ELICENSE_PUBLIC_BASE_URL, else this site as the request saw it."""
    configured = str(app_settings.ELICENSE_PUBLIC_BASE_URL)
    return configured or request.build_absolute_uri("/").rstrip("/")
