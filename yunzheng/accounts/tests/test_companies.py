"""Enterprise accounts: registration, the designated contact person, API credentials, the command."""

from __future__ import annotations

import json
from io import BytesIO, StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client
from PIL import Image

from yunzheng.accounts import services
from yunzheng.accounts.credentials import authenticate_company_token
from yunzheng.accounts.models import Company, CompanyCredential, CompanyMembership
from yunzheng.accounts.tests.factories import credit_code, login, public_client, sms_to, verified_user
from yunzheng.core.errors import Conflict, PermissionDenied, ValidationFailed
from yunzheng.core.models import AuditEntry


def signed_letter(name: str = "授权委托书.png") -> SimpleUploadedFile:
    """A scan of the authorisation letter signed by the legal representative (a real PNG)."""
    buffer = BytesIO()
    Image.new("RGB", (800, 600), (250, 250, 250)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


pytestmark = pytest.mark.django_db

CREDIT_CODE = credit_code()
CONTACT_PHONE, SUCCESSOR_PHONE = "13900001111", "13900002222"


def _register(**changes: str) -> Company:
    contact = verified_user(CONTACT_PHONE, name="赵敏")
    values = {
        "credit_code": CREDIT_CODE,
        "name": "杭州云途出行科技有限公司",
        "legal_representative": "李明",
    }
    values.update(changes)
    return services.company_register(user=contact, **values)


def test_registration_assigns_a_company_id_and_makes_the_registrant_the_contact() -> None:
    company = _register()
    assert company.credit_code == CREDIT_CODE
    assert company.region_code == "330106"  # characters 3-8 of the credit code
    assert company.supervision_company_id.startswith("330106")
    assert len(company.supervision_company_id) <= 32
    assert company.supervision_company_id.isascii()
    assert company.contact_user is not None
    assert company.contact_user.phone == CONTACT_PHONE
    assert CompanyMembership.objects.filter(company=company, user=company.contact_user).exists()
    assert AuditEntry.objects.filter(action="company.register", target_id=str(company.pk)).exists()


def test_registration_needs_real_name_verification() -> None:
    with pytest.raises(PermissionDenied) as refused:
        services.company_register(
            user=login("13900003333"), credit_code=CREDIT_CODE, name="某公司", legal_representative="某人"
        )
    assert refused.value.code == "real_name.required"
    assert not Company.objects.exists()


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        (
            {"credit_code": CREDIT_CODE[:-1] + ("0" if CREDIT_CODE[-1] != "0" else "1")},
            "credit_code.checksum",
        ),
        ({"credit_code": "91330106"}, "credit_code.format"),
        ({"name": "  "}, "company.field_required"),
        ({"supervision_company_id": "云途0001"}, "halfwidth.required"),
        ({"supervision_company_id": "X" * 33}, "company_id.format"),
    ],
)
def test_registration_validates_its_fields(changes: dict[str, str], code: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        _register(**changes)
    assert refused.value.code == code
    assert not Company.objects.exists()


def test_a_credit_code_registers_once() -> None:
    _register()
    other = verified_user("13900004444", name="钱多")
    with pytest.raises(Conflict) as refused:
        services.company_register(user=other, credit_code=CREDIT_CODE, name="x", legal_representative="y")
    assert refused.value.code == "company.already_registered"


def test_changing_the_contact_is_deliberate_and_audited() -> None:
    company = _register()
    contact = company.contact_user
    assert contact is not None
    successor = verified_user(SUCCESSOR_PHONE, name="孙俪")
    for reason, confirmed, code in [
        ("离职交接", False, "company.confirmation_required"),
        (" ", True, "company.reason_required"),
    ]:
        with pytest.raises(ValidationFailed) as refused:
            services.company_contact_change(
                company=company,
                changed_by=contact,
                new_contact_phone=SUCCESSOR_PHONE,
                reason=reason,
                confirmed=confirmed,
                letter=signed_letter(),
            )
        assert refused.value.code == code
    # Without the legal representative's signed confirmation the change is refused.
    with pytest.raises(ValidationFailed) as no_letter:
        services.company_contact_change(
            company=company,
            changed_by=contact,
            new_contact_phone=SUCCESSOR_PHONE,
            reason="离职交接",
            confirmed=True,
        )
    assert no_letter.value.code == "company.legal_representative_confirmation_required"
    login("13900005555")
    with pytest.raises(ValidationFailed) as unverified:
        services.company_contact_change(
            company=company, changed_by=contact, new_contact_phone="13900005555", reason="x", confirmed=True
        )
    assert unverified.value.code == "company.contact_unverified"
    with pytest.raises(PermissionDenied):
        services.company_contact_change(
            company=company,
            changed_by=successor,
            new_contact_phone=SUCCESSOR_PHONE,
            reason="x",
            confirmed=True,
        )
    company.refresh_from_db()
    assert company.contact_user == contact  # nothing changed so far

    services.company_contact_change(
        company=company,
        changed_by=contact,
        new_contact_phone=SUCCESSOR_PHONE,
        reason="离职交接",
        confirmed=True,
        letter=signed_letter(),
    )
    company.refresh_from_db()
    assert company.contact_user == successor
    record = company.contact_designations.get()
    assert (record.contact, record.previous_contact, record.designated_by) == (successor, contact, contact)
    assert record.letter_content_type == "image/png"
    entry = AuditEntry.objects.get(action="company.contact.change")
    assert entry.reason == "离职交接"
    assert entry.before == {"contact": {"user": f"user#{contact.pk}", "phone": "139****1111", "name": "赵*"}}
    assert entry.after == {"contact": {"user": f"user#{successor.pk}", "phone": "139****2222", "name": "孙*"}}
    for phone in (CONTACT_PHONE, SUCCESSOR_PHONE):
        assert any(m.template == "company_contact_changed" for m in sms_to(phone))


def test_contact_change_pages_warn_then_confirm() -> None:
    company = _register()
    verified_user(SUCCESSOR_PHONE, name="孙俪")
    assert company.contact_user is not None
    client = public_client(company.contact_user)
    url = f"/accounts/companies/{company.pk}/contact/"
    first = client.get(url).content.decode()
    assert "请慎重" in first
    preview = client.post(url, {"phone": SUCCESSOR_PHONE, "reason": "离职交接"})
    assert "孙*" in preview.content.decode()
    assert 'data-testid="confirm-change"' in preview.content.decode()
    company.refresh_from_db()
    assert company.contact_user.phone == CONTACT_PHONE
    unconfirmed = client.post(url, {"phone": SUCCESSOR_PHONE, "reason": "离职交接", "step": "confirm"})
    assert unconfirmed.status_code == 200
    no_letter = client.post(
        url, {"phone": SUCCESSOR_PHONE, "reason": "离职交接", "step": "confirm", "confirm": "on"}
    )
    assert no_letter.status_code == 200
    assert 'data-field="letter"' in no_letter.content.decode()
    done = client.post(
        url,
        {
            "phone": SUCCESSOR_PHONE,
            "reason": "离职交接",
            "step": "confirm",
            "confirm": "on",
            "letter": signed_letter(),
        },
    )
    assert done.status_code == 302
    company.refresh_from_db()
    assert company.contact_user.phone == SUCCESSOR_PHONE
    # The former contact is still a member but can no longer change anything.
    assert client.get(url).status_code == 403


def test_credentials_through_the_pages_show_the_secret_once() -> None:
    company = _register()
    assert company.contact_user is not None
    client = public_client(company.contact_user)
    created = client.post(
        f"/accounts/companies/{company.pk}/credentials/", {"name": "upload", "environment": "sandbox"}
    )
    assert created.status_code == 200
    assert created["Cache-Control"] == "no-store"
    html = created.content.decode()
    token = html.split('data-testid="token">')[1].split("<")[0]
    credential = authenticate_company_token(token)
    assert credential is not None
    assert credential.company == company
    assert credential.environment == "sandbox"
    assert token.split("_")[-1] not in credential.secret_hash
    listing = client.get(f"/accounts/companies/{company.pk}/").content.decode()
    assert token not in listing
    assert credential.key_id in listing

    revoked = client.post(f"/accounts/companies/{company.pk}/credentials/{credential.pk}/revoke/")
    assert revoked.status_code == 302
    assert authenticate_company_token(token) is None


def test_members_can_look_but_only_the_contact_manages() -> None:
    company = _register()
    assert company.contact_user is not None
    member = verified_user("13900006666", name="周星")
    services.company_member_add(company=company, added_by=company.contact_user, phone="13900006666")
    with pytest.raises(ValidationFailed):
        services.company_member_add(company=company, added_by=company.contact_user, phone="13900006666")
    client = public_client(member)
    assert client.get(f"/accounts/companies/{company.pk}/").status_code == 200
    assert (
        client.post(
            f"/accounts/companies/{company.pk}/credentials/", {"name": "x", "environment": "sandbox"}
        ).status_code
        == 403
    )
    issued = services.company_credential_issue(
        company=company, user=company.contact_user, name="prod", environment="production"
    )
    assert (
        client.post(
            f"/accounts/companies/{company.pk}/credentials/{issued.credential.pk}/revoke/"
        ).status_code
        == 403
    )
    assert authenticate_company_token(issued.token) is not None
    # Strangers do not even see the company.
    stranger = public_client(verified_user("13900007777", name="吴用"))
    assert stranger.get(f"/accounts/companies/{company.pk}/").status_code == 404


def test_company_register_page(client: Client) -> None:
    contact = verified_user(CONTACT_PHONE, name="赵敏")
    client.force_login(contact)
    bad = client.post(
        "/accounts/companies/register/",
        {"credit_code": "91330106MA2H4K7Q10", "name": "某公司", "legal_representative": "某人"},
    )
    assert bad.status_code == 200
    assert not Company.objects.exists()
    good = client.post(
        "/accounts/companies/register/",
        {"credit_code": CREDIT_CODE, "name": "某公司", "legal_representative": "某人"},
    )
    assert good.status_code == 302
    assert Company.objects.get().contact_user == contact


# --------------------------------------------------------------------------------------------
# manage.py create_company_credential
# --------------------------------------------------------------------------------------------


def _command(*args: str) -> dict[str, object]:
    out = StringIO()
    call_command("create_company_credential", *args, stdout=out)
    lines = out.getvalue().strip().splitlines()
    assert len(lines) == 1
    result: dict[str, object] = json.loads(lines[0])
    return result


def test_command_creates_the_company_and_prints_one_json_object() -> None:
    result = _command(
        CREDIT_CODE, "--name", "nightly", "--company-name", "云途出行", "--environment", "sandbox"
    )
    assert set(result) == {
        "company_id",
        "credit_code",
        "company_created",
        "credential_key_id",
        "environment",
        "token",
    }
    company = Company.objects.get()
    assert result["company_id"] == company.supervision_company_id
    assert result["credit_code"] == CREDIT_CODE
    assert result["company_created"] is True
    assert result["environment"] == "sandbox"
    credential = authenticate_company_token(str(result["token"]))
    assert credential is not None
    assert credential.key_id == result["credential_key_id"]
    assert credential.name == "nightly"
    assert company.name == "云途出行"
    assert company.contact_user is None

    again = _command(CREDIT_CODE, "--company-id", "IGNORED-FOR-EXISTING")
    assert again["company_created"] is False
    assert again["company_id"] == company.supervision_company_id
    assert Company.objects.count() == 1
    assert CompanyCredential.objects.count() == 2


def test_command_with_a_given_company_id_and_bad_input() -> None:
    result = _command(CREDIT_CODE, "--company-id", "MOT-ZJ-000123")
    assert result["company_id"] == "MOT-ZJ-000123"
    with pytest.raises(CommandError, match=r"credit_code\.checksum"):
        _command(CREDIT_CODE[:-1] + ("0" if CREDIT_CODE[-1] != "0" else "1"))


def test_token_authentication_loads_what_the_orm_loads_in_one_query(
    django_assert_num_queries: object,
) -> None:
    """The upload path's lookup is written as SQL (issue #16): same instances, company included."""
    from yunzheng.accounts.credentials import company_credential_create

    company = _register()
    issued = company_credential_create(company=company, name="upload")
    with django_assert_num_queries(1):  # type: ignore[operator]
        credential = authenticate_company_token(issued.token)
        assert credential is not None
        loaded_company = credential.company  # already loaded: no second query
    stored = CompanyCredential.objects.select_related("company").get(pk=issued.credential.pk)
    for field in CompanyCredential._meta.concrete_fields:
        assert getattr(credential, field.attname) == getattr(stored, field.attname), field.name
    for field in Company._meta.concrete_fields:
        assert getattr(loaded_company, field.attname) == getattr(stored.company, field.attname), field.name
    assert credential.created_at.tzinfo is not None
    assert not credential._state.adding
    assert authenticate_company_token(issued.token[:-1] + ("x" if issued.token[-1] != "x" else "y")) is None
