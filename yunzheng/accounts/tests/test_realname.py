"""Real-name verification: upload, prefill, validation, backends, privacy, and the guards."""

from __future__ import annotations

import base64
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.db import SessionStore
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory

from yunzheng.accounts import services
from yunzheng.accounts.guards import ensure_real_name_verified, real_name_required
from yunzheng.accounts.models import RealNameVerification, User
from yunzheng.accounts.ocr import IdCardFields
from yunzheng.accounts.tests.conftest import FAKE_OCR_READING
from yunzheng.accounts.tests.factories import (
    id_number,
    login,
    png_bytes,
    public_client,
    staff,
    staff_client,
    verified_user,
)
from yunzheng.core.errors import (
    Conflict,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    RateLimited,
    ValidationFailed,
)
from yunzheng.core.models import AuditEntry

pytestmark = pytest.mark.django_db

PHONE = "13911112222"
NUMBER = FAKE_OCR_READING.id_number  # 330106 (Hangzhou), born 1990-03-07, male
READ = FAKE_OCR_READING
TRUSTED = "yunzheng.accounts.identity.TrustedOcrBackend"


def _submission(**changes: Any) -> services.RealNameSubmission:
    values: dict[str, Any] = {
        "name": READ.name,
        "sex": READ.sex,
        "ethnicity": READ.ethnicity,
        "birth_date": READ.birth_date,
        "address": READ.address,
        "id_number": READ.id_number,
    }
    values.update(changes)
    return services.RealNameSubmission(**values)


def _draft(user: User) -> RealNameVerification:
    return services.realname_photo_upload(user=user, upload=png_bytes())


def _codes(error: ValidationFailed) -> dict[str, str]:
    return {detail.field: detail.code for detail in error.details}


def test_upload_keeps_a_draft_with_the_prefill_and_an_encrypted_photo(
    ocr_reads: Any, settings: Any, tmp_path: Path
) -> None:
    user = login(PHONE)
    photo = png_bytes()
    draft = services.realname_photo_upload(user=user, upload=photo)
    assert draft.status == RealNameVerification.Status.DRAFT
    assert IdCardFields.from_json(draft.prefill) == READ
    stored = Path(settings.PRIVATE_MEDIA_ROOT) / draft.photo_name
    raw = stored.read_bytes()
    assert raw.startswith(b"sm4gcm:")  # encrypted at rest, not a PNG
    # neither the photo's bytes nor their base64 (which begins "iVBORw0KGgo") are stored; a bare
    # b"PNG" would also match random base64 ciphertext now and then
    assert photo[:16] not in raw
    assert base64.b64encode(photo[:12]) not in raw
    assert stored.stat().st_mode & 0o077 == 0  # readable by the server user only
    assert services.realname_photo_bytes(verification=draft)[:4] == b"\x89PNG"
    # The prefill (personal data) is encrypted in the database too.
    with connection.cursor() as cursor:
        cursor.execute("SELECT prefill FROM accounts_realnameverification WHERE id = %s", [draft.pk])
        assert "张三丰" not in cursor.fetchone()[0]


def test_manual_backend_queues_for_staff_who_approve(ocr_reads: Any) -> None:
    user = login(PHONE)
    draft = _draft(user)
    submitted = services.realname_verification_submit(
        user=user, verification_id=draft.pk, submission=_submission()
    )
    assert submitted.status == RealNameVerification.Status.PENDING
    assert submitted.region_code == "330106"
    user.refresh_from_db()
    assert user.real_name_status == User.RealNameStatus.PENDING
    assert not user.is_real_name_verified
    assert user.id_number is None  # copied only on approval

    clerk = staff("hz-transport")
    approved = services.realname_verification_approve(verification=submitted, reviewer=clerk)
    assert approved.status == RealNameVerification.Status.APPROVED
    assert approved.reviewed_by == clerk
    user.refresh_from_db()
    assert user.is_real_name_verified
    assert user.real_name == "张三丰"
    assert user.id_number == NUMBER
    assert user.real_name_verified_at is not None
    approve = AuditEntry.objects.get(action="real_name.approve")
    assert approve.actor_kind == "staff"
    assert NUMBER not in str(AuditEntry.objects.filter(action="real_name.submit").get().after)


def test_trusted_ocr_backend_approves_a_consistent_submission(ocr_reads: Any, settings: Any) -> None:
    settings.IDENTITY_VERIFICATION_BACKEND = TRUSTED
    user = login(PHONE)
    submitted = services.realname_verification_submit(
        user=user, verification_id=_draft(user).pk, submission=_submission()
    )
    assert submitted.status == RealNameVerification.Status.APPROVED
    assert submitted.backend == TRUSTED
    user.refresh_from_db()
    assert user.is_real_name_verified


def test_trusted_ocr_backend_sends_corrected_submissions_to_staff(ocr_reads: Any, settings: Any) -> None:
    settings.IDENTITY_VERIFICATION_BACKEND = TRUSTED
    user = login(PHONE)
    submitted = services.realname_verification_submit(
        user=user, verification_id=_draft(user).pk, submission=_submission(name="张三峰")
    )
    assert submitted.status == RealNameVerification.Status.PENDING


def test_a_failing_backend_leaves_the_submission_for_staff(ocr_reads: Any, settings: Any) -> None:
    settings.IDENTITY_VERIFICATION_BACKEND = "yunzheng.accounts.identity.NoSuchBackend"
    user = login(PHONE)
    submitted = services.realname_verification_submit(
        user=user, verification_id=_draft(user).pk, submission=_submission()
    )
    assert submitted.status == RealNameVerification.Status.PENDING


def test_pdf_renamed_to_png_is_refused_and_nothing_is_stored(ocr_reads: Any, settings: Any) -> None:
    user = login(PHONE)
    client = public_client(user)
    pdf = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    upload = SimpleUploadedFile("身份证.png", pdf, content_type="image/png")
    response = client.post("/accounts/real-name/", {"photo": upload})
    assert response.status_code == 200
    assert "只接受 PNG 和 JPEG 图片" in response.content.decode() or "PNG" in response.content.decode()
    with pytest.raises(ValidationFailed) as refused:
        services.realname_photo_upload(user=user, upload=pdf)
    assert refused.value.code == "upload.unsupported_type"
    assert not RealNameVerification.objects.exists()
    assert not Path(settings.PRIVATE_MEDIA_ROOT).exists()


def test_oversized_photo_is_refused(ocr_reads: Any) -> None:
    user = login(PHONE)
    huge = png_bytes() + b"\0" * (10 * 1024 * 1024)
    with pytest.raises(ValidationFailed) as refused:
        services.realname_photo_upload(user=user, upload=huge)
    assert refused.value.code == "upload.too_large"
    assert not RealNameVerification.objects.exists()


def test_api_upload_returns_the_prefill_and_rejects_bad_files(ocr_reads: Any) -> None:
    user = login(PHONE)
    token = services.user_token_create(user=user).token
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    response = client.post(
        "/api/v1/auth/real-name/photo", {"photo": SimpleUploadedFile("id.jpg", png_bytes(), "image/jpeg")}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "draft"
    assert body["prefill"] == {
        "name": "张三丰",
        "sex": "M",
        "ethnicity": "汉",
        "birth_date": "1990-03-07",
        "address": "浙江省杭州市西湖区文三路100号",
        "id_number": NUMBER,
    }
    too_big = client.post(
        "/api/v1/auth/real-name/photo",
        {"photo": SimpleUploadedFile("id.png", b"\x89PNG" + b"\0" * (10 * 1024 * 1024), "image/png")},
    )
    assert too_big.status_code == 422
    assert too_big.json()["error"]["code"] == "upload.too_large"

    submitted = client.post(
        f"/api/v1/auth/real-name/{body['verification_id']}/submit",
        {
            "name": "张三丰",
            "sex": "M",
            "ethnicity": "汉",
            "birth_date": "1990-03-07",
            "address": "浙江省杭州市西湖区文三路100号",
            "id_number": NUMBER,
        },
        content_type="application/json",
    )
    assert submitted.status_code == 200, submitted.content
    assert submitted.json()["status"] == "pending"
    assert submitted.json()["id_number"] == "3301**********" + NUMBER[-4:]
    status = client.get("/api/v1/auth/real-name").json()
    assert status["real_name_status"] == "pending"
    assert status["latest"]["id"] == body["verification_id"]


def test_bad_checksum_is_refused_and_changes_nothing(ocr_reads: Any) -> None:
    user = login(PHONE)
    draft = _draft(user)
    bad = NUMBER[:-1] + ("0" if NUMBER[-1] != "0" else "1")
    with pytest.raises(ValidationFailed) as refused:
        services.realname_verification_submit(
            user=user, verification_id=draft.pk, submission=_submission(id_number=bad)
        )
    assert _codes(refused.value) == {"id_number": "id_number.checksum"}
    draft.refresh_from_db()
    user.refresh_from_db()
    assert draft.status == RealNameVerification.Status.DRAFT
    assert draft.id_number is None
    assert user.real_name_status == User.RealNameStatus.UNVERIFIED


def test_birth_date_must_match_the_id_number(ocr_reads: Any) -> None:
    user = login(PHONE)
    draft = _draft(user)
    with pytest.raises(ValidationFailed) as refused:
        services.realname_verification_submit(
            user=user, verification_id=draft.pk, submission=_submission(birth_date=dt.date(1990, 3, 8))
        )
    assert _codes(refused.value) == {"birth_date": "real_name.birth_date_mismatch"}
    draft.refresh_from_db()
    assert draft.status == RealNameVerification.Status.DRAFT


def test_sex_must_match_the_id_number(ocr_reads: Any) -> None:
    user = login(PHONE)
    with pytest.raises(ValidationFailed) as refused:
        services.realname_verification_submit(
            user=user, verification_id=_draft(user).pk, submission=_submission(sex="F")
        )
    assert _codes(refused.value) == {"sex": "real_name.sex_mismatch"}


def test_forged_region_code_is_refused(ocr_reads: Any) -> None:
    user = login(PHONE)
    forged = id_number(region="990106")  # a valid checksum around a region that never existed
    with pytest.raises(ValidationFailed) as refused:
        services.realname_verification_submit(
            user=user, verification_id=_draft(user).pk, submission=_submission(id_number=forged)
        )
    assert _codes(refused.value) == {"id_number": "id_number.region"}
    assert not User.objects.filter(real_name_status=User.RealNameStatus.PENDING).exists()


def test_all_field_errors_come_back_together(ocr_reads: Any) -> None:
    user = login(PHONE)
    with pytest.raises(ValidationFailed) as refused:
        services.realname_verification_submit(
            user=user,
            verification_id=_draft(user).pk,
            submission=_submission(name="Zhang3", ethnicity="", address=" ", birth_date=dt.date(2001, 1, 1)),
        )
    assert _codes(refused.value) == {
        "name": "real_name.name_invalid",
        "ethnicity": "real_name.field_required",
        "address": "real_name.field_required",
        "birth_date": "real_name.birth_date_mismatch",
    }


def test_another_users_verification_is_not_found(ocr_reads: Any) -> None:
    owner = login(PHONE)
    draft = _draft(owner)
    intruder = login("13933334444")
    with pytest.raises(NotFound):
        services.realname_verification_submit(
            user=intruder, verification_id=draft.pk, submission=_submission()
        )
    client = public_client(intruder)
    assert client.get(f"/accounts/real-name/{draft.pk}/confirm/").status_code == 404
    assert client.get(f"/accounts/real-name/{draft.pk}/photo/").status_code == 404
    token = services.user_token_create(user=intruder).token
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    response = api.get(f"/api/v1/auth/real-name/{draft.pk}")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "real_name.not_found"
    submit = api.post(
        f"/api/v1/auth/real-name/{draft.pk}/submit",
        {
            "name": "张三丰",
            "sex": "M",
            "ethnicity": "汉",
            "birth_date": "1990-03-07",
            "address": "x",
            "id_number": NUMBER,
        },
        content_type="application/json",
    )
    assert submit.status_code == 404
    draft.refresh_from_db()
    assert draft.status == RealNameVerification.Status.DRAFT
    # The owner can see it.
    assert public_client(owner).get(f"/accounts/real-name/{draft.pk}/confirm/").status_code == 200


def test_one_verified_account_per_id_number(ocr_reads: Any) -> None:
    verified_user("13955556666", name="张三丰", number=NUMBER)
    user = login(PHONE)
    with pytest.raises(Conflict) as taken:
        services.realname_verification_submit(
            user=user, verification_id=_draft(user).pk, submission=_submission()
        )
    assert taken.value.code == "real_name.id_number_taken"


def test_approval_rechecks_the_id_number_is_still_free(ocr_reads: Any) -> None:
    first, second = login(PHONE), login("13977778888")
    pending = [
        services.realname_verification_submit(
            user=user, verification_id=_draft(user).pk, submission=_submission()
        )
        for user in (first, second)
    ]
    clerk = staff("hz-transport")
    services.realname_verification_approve(verification=pending[0], reviewer=clerk)
    with pytest.raises(Conflict) as taken:
        services.realname_verification_approve(verification=pending[1], reviewer=clerk)
    assert taken.value.code == "real_name.id_number_taken"
    second.refresh_from_db()
    assert not second.is_real_name_verified


def test_rejection_needs_a_reason_and_lets_the_user_try_again(ocr_reads: Any) -> None:
    user = login(PHONE)
    pending = services.realname_verification_submit(
        user=user, verification_id=_draft(user).pk, submission=_submission()
    )
    clerk = staff("hz-transport")
    with pytest.raises(ValidationFailed) as no_reason:
        services.realname_verification_reject(verification=pending, reviewer=clerk, reason="  ")
    assert no_reason.value.code == "real_name.reason_required"
    with pytest.raises(Conflict):
        _draft(user)  # still pending: no second submission meanwhile
    services.realname_verification_reject(verification=pending, reviewer=clerk, reason="照片模糊，无法辨认")
    user.refresh_from_db()
    assert user.real_name_status == User.RealNameStatus.REJECTED
    assert _draft(user).status == RealNameVerification.Status.DRAFT
    with pytest.raises(Conflict):
        services.realname_verification_approve(verification=pending, reviewer=clerk)


def test_verified_users_cannot_start_again(ocr_reads: Any) -> None:
    user = verified_user(PHONE)
    with pytest.raises(Conflict) as refused:
        _draft(user)
    assert refused.value.code == "real_name.already_verified"


def test_uploads_are_rate_limited(ocr_reads: Any, settings: Any) -> None:
    settings.ACCOUNTS_REALNAME_UPLOADS_PER_HOUR = 2
    user = login(PHONE)
    _draft(user)
    _draft(user)
    with pytest.raises(RateLimited) as limited:
        _draft(user)
    assert limited.value.code == "real_name.too_many_uploads"


def test_drafts_are_purged_with_their_photos(ocr_reads: Any, settings: Any) -> None:
    user = login(PHONE)
    draft = _draft(user)
    path = Path(settings.PRIVATE_MEDIA_ROOT) / draft.photo_name
    assert path.exists()
    assert services.realname_draft_purge(now=draft.created_at + dt.timedelta(days=2)) == 1
    assert not path.exists()
    assert not RealNameVerification.objects.exists()


def test_pages_walk_from_upload_to_pending(ocr_reads: Any) -> None:
    user = login(PHONE)
    client = public_client(user)
    page = client.get("/accounts/real-name/")
    assert "身份证人像面" in page.content.decode()
    uploaded = client.post("/accounts/real-name/", {"photo": SimpleUploadedFile("a.png", png_bytes())})
    assert uploaded.status_code == 302
    confirm = client.get(uploaded["Location"])
    html = confirm.content.decode()
    assert 'value="张三丰"' in html
    assert f'value="{NUMBER}"' in html
    assert 'value="1990-03-07"' in html
    wrong = client.post(
        uploaded["Location"],
        {
            "name": "张三丰",
            "sex": "M",
            "ethnicity": "汉",
            "birth_date": "1990-03-08",
            "address": READ.address,
            "id_number": NUMBER,
        },
    )
    assert "出生日期与身份证号码不符" in wrong.content.decode()
    done = client.post(
        uploaded["Location"],
        {
            "name": "张三丰",
            "sex": "M",
            "ethnicity": "汉",
            "birth_date": "1990-03-07",
            "address": READ.address,
            "id_number": NUMBER,
        },
    )
    assert done["Location"] == "/accounts/real-name/"
    assert "审核中" in client.get("/accounts/real-name/").content.decode()


# --------------------------------------------------------------------------------------------
# Guards for other apps
# --------------------------------------------------------------------------------------------


def test_ensure_real_name_verified() -> None:
    with pytest.raises(NotAuthenticated):
        ensure_real_name_verified(AnonymousUser())
    with pytest.raises(PermissionDenied) as refused:
        ensure_real_name_verified(login(PHONE))
    assert refused.value.code == "real_name.required"
    ensure_real_name_verified(verified_user("13966667777"))


def _request_for(user: Any) -> HttpRequest:
    request = RequestFactory().get("/practitioners/apply/?type=renewal")
    request.user = user
    request.session = SessionStore()
    request._messages = FallbackStorage(request)  # type: ignore[attr-defined]
    return request


def test_real_name_required_decorator() -> None:
    @real_name_required
    def apply(request: HttpRequest) -> HttpResponse:
        return HttpResponse("applied")

    anonymous = apply(_request_for(AnonymousUser()))
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/accounts/login/?next=")
    unverified = apply(_request_for(login(PHONE)))
    assert unverified.status_code == 302
    assert unverified["Location"] == "/accounts/real-name/?next=%2Fpractitioners%2Fapply%2F%3Ftype%3Drenewal"
    assert apply(_request_for(verified_user("13966667777"))).content == b"applied"


def test_browsing_is_allowed_but_registering_a_company_is_not(client: Client) -> None:
    user = login(PHONE)
    client.force_login(user)
    assert client.get("/").status_code == 200
    assert client.get("/accounts/companies/").status_code == 200
    response = client.get("/accounts/companies/register/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/real-name/?next=")


def test_staff_photo_view_is_audited_and_scoped(ocr_reads: Any) -> None:
    user = login(PHONE)
    pending = services.realname_verification_submit(
        user=user, verification_id=_draft(user).pk, submission=_submission()
    )
    clerk_client = staff_client(staff("hz-transport"))
    photo = clerk_client.get(f"/accounts/staff/real-name/{pending.pk}/photo/")
    assert photo.status_code == 200
    assert photo.content[:4] == b"\x89PNG"
    assert photo["Cache-Control"] == "private, no-store" or "no-store" in photo["Cache-Control"]
    assert AuditEntry.objects.filter(action="real_name.view_photo", target_id=str(pending.pk)).exists()
    other_city = staff_client(staff("nb-transport", region="330200"))
    assert other_city.get(f"/accounts/staff/real-name/{pending.pk}/photo/").status_code == 404
