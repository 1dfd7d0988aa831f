"""Downloads: the QR in the PNG and in the PDF decodes (zxing-cpp, an independent decoder) to a
payload that verifies offline (trust list) and online (the API)."""

from __future__ import annotations

import json
import shutil
import subprocess
from io import BytesIO
from pathlib import Path

import zxingcpp
from django.utils import timezone
from PIL import Image

from yunzheng.elicense import services, verifier
from yunzheng.elicense.tests.conftest import user_client


def decode_qr(image: Image.Image) -> str:
    results = [r for r in zxingcpp.read_barcodes(image) if r.format == zxingcpp.BarcodeFormat.QRCode]
    assert len(results) == 1, results
    return results[0].text


def check_offline_and_online(client, keys, text: str, licence) -> None:
    trust_list = verifier.load_trust_list(
        json.dumps(services.trust_list_issue()),
        root_public_key_hex=keys["root"].public_key_hex,
        now=timezone.now(),
    )
    offline = verifier.verify_payload(text, trust_list=trust_list, now=timezone.now())
    assert offline.is_valid
    assert offline.claims is not None
    assert offline.claims.lid == licence.lid
    online = client.post("/api/v1/elicense/verify", {"payload": text}, content_type="application/json").json()
    assert online["result"] == "valid"


def test_png_download(client, keys, holder, licence):
    holder_client = user_client(holder)
    response = holder_client.get(f"/api/v1/elicense/licences/{licence.lid}/png")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    image = Image.open(BytesIO(response.content))
    assert image.width >= 1200
    text = decode_qr(image)
    assert text.startswith("HTTP://TESTSERVER/V/YZ1:")
    check_offline_and_online(client, keys, text, licence)
    licence.refresh_from_db()
    assert licence.activated_at is not None  # the holder downloaded it
    page = holder_client.get(f"/elicense/licences/{licence.lid}/download.png")
    assert decode_qr(Image.open(BytesIO(page.content))).startswith("HTTP://TESTSERVER/V/YZ1:")


def test_pdf_download_with_embedded_chinese_font(tmp_path: Path, client, keys, holder, licence):
    response = user_client(holder).get(f"/elicense/licences/{licence.lid}/download.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    pdf = tmp_path / "licence.pdf"
    pdf.write_bytes(response.content)
    pdftoppm, pdffonts = shutil.which("pdftoppm"), shutil.which("pdffonts")
    assert pdftoppm, "poppler-utils is required"
    assert pdffonts, "poppler-utils is required"
    fonts = subprocess.run([pdffonts, str(pdf)], capture_output=True, text=True, check=True).stdout  # noqa: S603
    cjk = [line for line in fonts.splitlines() if "Noto-Sans-CJK-SC" in line or "NotoSansCJKsc" in line]
    assert cjk, fonts
    assert all(" yes " in line for line in cjk), fonts  # embedded
    subprocess.run([pdftoppm, "-png", "-r", "150", str(pdf), str(tmp_path / "page")], check=True)  # noqa: S603
    pages = sorted(tmp_path.glob("page*.png"))
    assert len(pages) == 1
    text = decode_qr(Image.open(pages[0]))
    check_offline_and_online(client, keys, text, licence)


def test_revoked_licence_gets_no_download(keys, holder, licence):
    from yunzheng.elicense.tests.conftest import SYSTEM

    services.licence_revoke(licence=licence, actor=SYSTEM, reason="fraud")
    client = user_client(holder)
    assert client.get(f"/api/v1/elicense/licences/{licence.lid}/pdf").status_code == 409
    page = client.get(f"/elicense/licences/{licence.lid}/").content.decode()
    assert 'data-testid="licence-no-qr"' in page
