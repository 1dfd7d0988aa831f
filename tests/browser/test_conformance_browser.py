"""Real headless Chromium: a company's contact person logs in (SMS code), opens the connectivity
test sheet of the open cycle and sees the failing field with its fix hint, in Chinese."""

from __future__ import annotations

from typing import Any

import pytest

from yunzheng.conformance import services
from yunzheng.conformance.models import Cycle
from yunzheng.conformance.tests.conftest import make_tenant
from yunzheng.core.sms import read_outbox

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_company_sees_the_failing_field_and_how_to_fix_it(page: Any, live_server: Any) -> None:
    tenant = make_tenant()
    campaign = services.campaign_start_self_service(company_id=tenant.company.pk, user=tenant.user)
    cycle = services.cycle_open(campaign=campaign, kind=Cycle.Kind.CONNECTIVITY, user=tenant.user)
    from yunzheng.exchange.spec.samples import valid_record

    good = valid_record("orderCreate", seed=1, CompanyId=tenant.company_id)
    bad = valid_record("baseInfoVehicle", seed=1, CompanyId=tenant.company_id, VIN="LGXC16DF4Ｋ0123456")
    assert tenant.post("orderCreate", [good]).status_code == 200
    assert tenant.post("baseInfoVehicle", [bad]).status_code == 422

    page.goto("/accounts/login/?next=/conformance/")
    page.locator("input[name=phone]").fill(tenant.user.phone)
    page.get_by_test_id("agree").check()
    page.get_by_test_id("send-code").click()
    page.get_by_test_id("code-sent").wait_for()
    code = [m for m in read_outbox(phone=tenant.user.phone) if m.template == "login_code"][-1].params["code"]
    page.locator("input[name=code]").fill(str(code))
    page.get_by_test_id("login").click()
    page.wait_for_url("**/conformance/")

    page.get_by_text("打开报告").first.click()
    page.wait_for_url(f"**/conformance/cycles/{cycle.pk}/")
    assert page.get_by_test_id("cycle-status").inner_text() == "正在接收上传"
    row = page.get_by_test_id("interface-baseInfoVehicle")
    assert "未通过" in row.inner_text()
    problem = row.get_by_test_id("problem")
    assert "VIN" in problem.inner_text()
    assert problem.get_by_test_id("value").inner_text() == '"LGXC16DF4Ｋ0123456"'
    hint = problem.get_by_test_id("hint").inner_text()
    assert "第 10 位：把 Ｋ 改为半角 K" in hint, hint
    assert "通过" in page.get_by_test_id("interface-orderCreate").inner_text()
    page.get_by_text("未通过").first.click()  # the filter shows the failing interfaces only
    assert page.get_by_test_id("interface-orderCreate").count() == 0
