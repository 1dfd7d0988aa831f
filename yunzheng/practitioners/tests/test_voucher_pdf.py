"""The credit-assessment voucher's PDF fits one A4 page, even for a long record (#12): the longest
names a certificate carries, every category, a long assessing authority. Pages are counted by
poppler's pdfinfo, independently of the library that wrote the PDF."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

from django.test import Client

from yunzheng.accounts.models import User
from yunzheng.core.clock import today_in_china
from yunzheng.practitioners import services
from yunzheng.practitioners.models import CaseType, CertificateCategory

from .conftest import DRIVER_ID, make_clerk, make_verified_user, register, submitted

# A long but real-world shaped record: a Uyghur name with its middle dot, all four categories, and
# an authority named with its full administrative chain.
LONG_NAME = "阿卜杜热合曼·买买提艾力·艾山江"
LONG_AUTHORITY = "浙江省杭州市交通运输局道路运输管理服务中心（出租汽车和网络预约出租汽车客运管理处）"


def _pages(pdf: bytes, tmp_path: Path) -> int:
    pdfinfo = shutil.which("pdfinfo")
    assert pdfinfo, "poppler-utils is required"
    path = tmp_path / "voucher.pdf"
    path.write_bytes(pdf)
    info = subprocess.run([pdfinfo, str(path)], capture_output=True, text=True, check=True).stdout  # noqa: S603
    match = re.search(r"^Pages:\s+(\d+)$", info, re.MULTILINE)
    assert match, info
    return int(match.group(1))


def test_credit_voucher_pdf_of_a_long_record_is_one_page(tmp_path: Path, signing_keys: Any, db: Any) -> None:
    driver: User = make_verified_user("13900000009", name=LONG_NAME, id_no=DRIVER_ID)
    certificate = register(
        DRIVER_ID, number="3301002015001234", name=LONG_NAME, categories=list(CertificateCategory.values)
    )
    clerk = make_clerk("hz-voucher-clerk", region="330100")
    case = submitted(driver, certificate, CaseType.CREDIT_ASSESSMENT)
    services.case_accept(case=case, staff=clerk)
    services.case_approve(case=case, staff=clerk, grade="AAA")
    # The province's assessment system then records the cycle with the authority's full name.
    services.credit_result_record(
        certificate_number=certificate.number,
        cycle_year=today_in_china().year - 1,
        grade="AAA",
        assessed_on=today_in_china() - dt.timedelta(days=1),
        authority=LONG_AUTHORITY,
        staff=clerk,
    )
    client = Client()
    client.force_login(driver)
    response = client.get(f"/office/cases/{case.pk}/voucher.pdf")
    assert response.status_code == 200
    assert response.content[:5] == b"%PDF-"
    assert _pages(response.content, tmp_path) == 1
    # It is the long record that was rendered (the text layer holds the names).
    text = subprocess.run(  # noqa: S603
        [shutil.which("pdftotext") or "pdftotext", str(tmp_path / "voucher.pdf"), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    compact = "".join(text.split())
    assert "买买提艾力" in compact
    assert "出租汽车和网络预约出租汽车客运管理处" in compact
