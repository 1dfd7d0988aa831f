"""The one response for files handed out by pages and APIs (downloads, private images, reports).

Every such file is personal or generated for the requester: never stored by shared caches or the
browser (`Cache-Control: private, no-store`) and never content-sniffed (`nosniff`). The
Content-Disposition header is built by Django, which encodes non-ASCII file names (RFC 6266).
"""

from __future__ import annotations

from django.http import HttpResponse
from django.utils.http import content_disposition_header


def file_response(
    content: bytes, *, content_type: str, filename: str = "", inline: bool = False
) -> HttpResponse:
    """`content` as a download named `filename` (or shown in the browser when `inline`)."""
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(not inline, filename) or "inline"
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
