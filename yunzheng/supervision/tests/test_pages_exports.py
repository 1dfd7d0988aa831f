"""The regulators' pages, API, exports and bulletin, seen by staff of different regions."""

from __future__ import annotations

import csv
import io
import re
import subprocess
from typing import Any

import pytest
from openpyxl import load_workbook

from yunzheng.accounts.tests.factories import staff, staff_client
from yunzheng.core.errors import PermissionDenied
from yunzheng.core.models import AuditEntry
from yunzheng.supervision import services

from .builders import DX, Month

pytestmark = pytest.mark.django_db


@pytest.fixture
def hz(month: Month) -> Any:
    return staff_client(staff("hz-sv", level="city", region="330100"))


@pytest.fixture
def zj(month: Month) -> Any:
    return staff_client(staff("zj-sv", level="province", region="330000"))


def test_dashboard_shows_the_city_only(hz: Any) -> None:
    response = hz.get("/supervision/?month=2026-10")
    assert response.status_code == 200
    html = response.content.decode()
    assert "甲出行" in html
    assert "丙聚合" in html
    assert "乙出行" not in html  # 宁波's platform
    assert "宁波" not in html
    assert 'data-testid="kpi-orders">44<' in html
    assert "79.55%" in html  # 35 / 44
    assert "echarts.min.js" in html
    assert 'id="supervision-charts"' in html


def test_province_sees_both_cities_and_the_movers(zj: Any) -> None:
    html = zj.get("/supervision/?month=2026-10").content.decode()
    assert "甲出行" in html
    assert "乙出行" in html
    assert 'data-testid="kpi-orders">54<' in html
    assert "+30.00" in html
    assert "-22.50" in html


def test_pages_need_staff(client: Any, month: Month) -> None:
    response = client.get("/supervision/")
    assert response.status_code == 302
    assert "/accounts/staff/login/" in response["Location"]
    assert client.get("/api/v1/supervision/rates?month=2026-10").status_code == 401


def test_csv_export_is_scoped_masked_and_audited(hz: Any) -> None:
    response = hz.get("/supervision/export/noncompliant.csv?month=2026-10")
    assert response.status_code == 200
    body = response.content
    assert body.startswith("\ufeff".encode())  # BOM for Excel
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert len(rows) == 1 + 9
    text = body.decode("utf-8-sig")
    assert DX not in text
    assert DX[:4] + "**********" + DX[-4:] in text
    assert "B2610" not in text  # 宁波's orders
    entry = AuditEntry.objects.filter(action="supervision.export").latest("id")
    assert entry.target_id == "noncompliant"
    assert entry.after["rows"] == 9
    assert entry.after["filters"]["scope"] == "3301"


def test_excel_export_of_the_platform_ranking(zj: Any) -> None:
    response = zj.get("/supervision/export/platforms.xlsx?month=2026-10")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[1][:5] == [1, "甲出行", 40, 31, 77.5]
    assert values[2][:5] == [2, "乙出行", 10, 8, 80.0]
    assert len(values) == 3  # the aggregator is not ranked with the platforms
    assert AuditEntry.objects.filter(action="supervision.export", target_id="platforms").exists()


def test_other_exports(zj: Any) -> None:
    for dataset in ("daily", "aggregators", "cities", "provinces", "movers", "cancellations", "quality"):
        response = zj.get(f"/supervision/export/{dataset}.csv?month=2026-10")
        assert response.status_code == 200, dataset
    daily = list(
        csv.reader(
            io.StringIO(zj.get("/supervision/export/daily.csv?month=2026-10").content.decode("utf-8-sig"))
        )
    )
    assert len(daily) == 32
    assert daily[15][0] == "2026-10-15"
    assert daily[15][1] == "3"
    assert zj.get("/supervision/export/secrets.csv").status_code == 404


def test_noncompliant_page_filters_and_scope(hz: Any) -> None:
    html = hz.get("/supervision/noncompliant/?month=2026-10&reason=vehicle:expired").content.decode()
    assert "A261016VE" in html
    assert "A261025VE" in html
    assert "A261003DX" not in html
    assert hz.get("/supervision/noncompliant/?month=2026-10&city=330200").status_code == 404
    # The city filter is a list of the staff member's cities by name, never a typed code (#12).
    filtered = hz.get("/supervision/noncompliant/?month=2026-10&city=330100").content.decode()
    assert '<option value="330100" selected>杭州市</option>' in filtered
    assert "宁波市" not in filtered


def test_api_rates_ranking_and_drill_down(hz: Any, zj: Any) -> None:
    rates = hz.get("/api/v1/supervision/rates?month=2026-10&by=city").json()
    assert [(r["key"], r["orders"], r["compliant"]) for r in rates] == [(330100, 44, 35)]
    ranking = zj.get("/api/v1/supervision/ranking?month=2026-10").json()
    assert [(r["label"], r["rate"]) for r in ranking] == [("甲出行", 0.775), ("乙出行", 0.8)]
    movers = zj.get("/api/v1/supervision/movers?month=2026-10&min_orders=5").json()
    assert movers["risers"][0]["label"] == "乙出行"
    assert movers["risers"][0]["change_points"] == 30.0
    page = hz.get("/api/v1/supervision/noncompliant?month=2026-10&reason=driver:cancelled").json()
    assert (page["count"], page["page"], page["pages"]) == (2, 1, 1)
    assert {r["order_id"] for r in page["items"]} == {"A261012DC", "A261020DC"}
    assert all(len(r["reasons"]) == 1 and r["day"].startswith("2026-10-") for r in page["items"])
    # Pages by number or, as before @paginate, by limit and offset: the same newest-first order.
    everything = hz.get("/api/v1/supervision/noncompliant?month=2026-10").json()
    newest = [r["order_id"] for r in everything["items"]]
    assert everything["count"] == len(newest) > 3
    second = hz.get("/api/v1/supervision/noncompliant?month=2026-10&limit=2&page=2").json()
    assert (second["count"], second["page"], second["pages"]) == (len(newest), 2, (len(newest) + 1) // 2)
    assert [r["order_id"] for r in second["items"]] == newest[2:4]
    assert hz.get("/api/v1/supervision/noncompliant?month=2026-10&limit=2&offset=2").json() == second
    assert hz.get("/api/v1/supervision/noncompliant?month=2026-10&city=330200").status_code == 404
    assert (
        hz.get("/api/v1/supervision/rates?month=2026-13").json()["error"]["code"]
        == "supervision.month_invalid"
    )


def test_api_activity_quality_map_and_drill_down_link(hz: Any, month: Month) -> None:
    activity = hz.get("/api/v1/supervision/activity?month=2026-10").json()
    assert sum(activity["series"]["cancel_passenger"]) == 2
    assert sum(activity["series"]["cancel_driver"]) == 1  # 宁波's is not 杭州's
    quality = hz.get("/api/v1/supervision/quality?days=92").json()
    assert month.a.company_id in {row["company_id"] for row in quality}
    assert month.b.company_id not in {row["company_id"] for row in quality}
    [row] = [r for r in quality if r["company_id"] == month.a.company_id]
    assert row["received"] > 0
    assert isinstance(row["issues"], list)
    assert all(set(reject) == {"field", "code", "count"} for reject in row["top_rejects"])
    assert row["last_received_at"] is None or row["last_received_at"].startswith("20")
    geo = hz.get("/api/v1/supervision/map?month=2026-10").json()
    assert geo["bounds"]["lon_min"] < 120.15 < geo["bounds"]["lon_max"]
    assert sum(cell[2] for cell in geo["density"]) == 44
    html = hz.get("/supervision/?month=2026-10").content.decode()
    assert f"company={month.a.company_id}" in html
    drill = hz.get(f"/supervision/noncompliant/?month=2026-10&company={month.a.company_id}").content.decode()
    assert "A261020DC" in drill


def test_recompute_is_limited_to_transport_and_the_own_region(hz: Any, month: Month) -> None:
    response = hz.post("/api/v1/supervision/compute", {"month": "2026-10"}, content_type="application/json")
    assert response.status_code == 200
    assert response.json()["orders"] == 44
    outside = hz.post(
        "/api/v1/supervision/compute",
        {"month": "2026-10", "region_prefix": "3302"},
        content_type="application/json",
    )
    assert outside.status_code == 403
    police = staff_client(staff("hz-police-sv", department="public_security", level="city", region="330100"))
    assert police.post("/supervision/compute/", {"month": "2026-10"}).status_code == 403
    assert hz.post("/supervision/compute/", {"month": "2026-10"}).status_code == 302


def test_the_compute_service_itself_checks_the_permission_table(month: Month) -> None:
    """Not only the page and the API: any caller that names a user is checked."""
    city = staff("hz-sv-service", level="city", region="330100")
    police = staff("hz-police-service", department="public_security", level="city", region="330100")
    with pytest.raises(PermissionDenied) as refused:
        services.compliance_compute(month="2026-10", user=police)
    assert refused.value.code == "staff.action_not_allowed"
    with pytest.raises(PermissionDenied) as outside:
        services.compliance_compute(month="2026-10", region_prefix="3302", user=city)
    assert outside.value.code == "supervision.out_of_scope"
    done = services.compliance_compute(month="2026-10", user=city)
    assert done.region_prefix == "3301"  # the staff member's own region by default
    entry = AuditEntry.objects.filter(action="supervision.compliance.compute").latest("pk")
    assert entry.actor_id == str(city.pk)
    # the scheduler names no user and acts as the system, nationwide
    assert services.compliance_compute(month="2026-10").region_prefix == ""


def test_bulletin_page_and_pdf(zj: Any, tmp_path: Any) -> None:
    html = zj.get("/supervision/bulletin/2026-10/").content.decode()
    assert "浙江省" in html
    assert "截至" in html
    # Tables are numbered consecutively over those shown.
    numbers = [int(n) for n in re.findall(r"<h2>表(\d+) ", html)]
    assert numbers == list(range(1, len(numbers) + 1))
    assert len(numbers) >= 3
    assert "2026年10月" in html
    assert "77.50%" in html
    assert "80.00%" in html
    response = zj.get("/supervision/bulletin/2026-10.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    pdf = tmp_path / "bulletin.pdf"
    pdf.write_bytes(response.content)
    text = subprocess.run(  # noqa: S603 - a fixed program on our own temporary file
        ["/usr/bin/pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "网约车监管信息交互系统" in text
    assert "54" in text
    assert "79.63%" in text
    assert "订单合规率较高的平台依次为：乙出行、甲出行" in text  # 80% before 77.5%
    assert "截至2026年10月31日" in text
    lines = [line for line in text.splitlines() if ("甲出行" in line or "乙出行" in line) and "%" in line]
    assert "甲出行" in lines[0]
    assert "77.50%" in lines[0]
    assert any("乙出行" in line and "80.00%" in line for line in lines)
    assert "丙聚合" in text  # aggregators, in their own table
    assert AuditEntry.objects.filter(action="supervision.export", target_id="bulletin").exists()
