"""Enterprise accounts: registration, the designated contact person, members, API credentials."""

from __future__ import annotations

import re
import secrets

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yunzheng.accounts import hooks
from yunzheng.accounts.credentials import (
    IssuedCredential,
    company_credential_create,
    company_credential_revoke,
)
from yunzheng.accounts.error_codes import AccountsErrorCode as Code
from yunzheng.accounts.guards import ensure_real_name_verified
from yunzheng.accounts.models import Company, CompanyCredential, CompanyMembership, ContactDesignation, User
from yunzheng.core import documents
from yunzheng.core.audit import Actor, record_audit
from yunzheng.core.crypto import lookup_hash, mask_name, mask_phone
from yunzheng.core.documents import UploadLike
from yunzheng.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from yunzheng.core.ids import region_code_exists, require_halfwidth, validate_credit_code, validate_mobile
from yunzheng.core.private_files import store_private
from yunzheng.core.sms import send_sms_on_commit

_COMPANY_ID = re.compile(r"[!-~]{1,32}")  # printable ASCII without spaces


def _masked_user(user: User | None) -> dict[str, str] | None:
    if user is None:
        return None
    return {
        "user": f"user#{user.pk}",
        "phone": mask_phone(user.phone) if user.phone else "",
        "name": mask_name(user.real_name) if user.real_name else "",
    }


def company_id_validate(value: str) -> str:
    """A supervision CompanyId: at most 32 half-width characters, no spaces."""
    value = value.strip()
    require_halfwidth(value, field="supervision_company_id")
    if not _COMPANY_ID.fullmatch(value):
        raise ValidationFailed.single(
            field="supervision_company_id",
            code=Code.COMPANY_ID_FORMAT,
            message=_("A CompanyId is 1 to 32 half-width characters without spaces."),
        )
    return value


def company_id_assign(*, region_code: str) -> str:
    """A fresh CompanyId: the region code plus 12 random hex digits (18 half-width characters)."""
    for _attempt in range(10):
        candidate = f"{region_code or '000000'}{secrets.token_hex(6).upper()}"
        if not Company.objects.filter(supervision_company_id=candidate).exists():
            return candidate
    raise RuntimeError("could not find a free CompanyId")  # 16^12 values: never happens


def _company_region(credit_code: str) -> str:
    # Characters 3-8 of a credit code are the registering authority's GB/T 2260 code.
    region = credit_code[2:8]
    return region if region_code_exists(region) else ""


def _required_text(value: str, *, field: str, limit: int, label: str) -> str:
    value = value.strip()
    if not value or len(value) > limit:
        raise ValidationFailed.single(
            field=field,
            code=Code.COMPANY_FIELD_REQUIRED,
            message=_("%(label)s is required (at most %(limit)s characters).")
            % {"label": label, "limit": limit},
        )
    return value


def company_register(
    *,
    user: User,
    credit_code: str,
    name: str,
    legal_representative: str,
    supervision_company_id: str = "",
) -> Company:
    """A verified user registers a company and becomes its designated contact person."""
    ensure_real_name_verified(user)
    credit_code = validate_credit_code(credit_code, field="credit_code")
    name = _required_text(name, field="name", limit=200, label=_("Company name"))
    legal_representative = _required_text(
        legal_representative, field="legal_representative", limit=50, label=_("Legal representative")
    )
    region_code = _company_region(credit_code)
    company_id = company_id_validate(supervision_company_id) if supervision_company_id.strip() else ""
    with transaction.atomic():
        if Company.objects.filter(credit_code=credit_code).exists():
            raise Conflict(
                Code.COMPANY_ALREADY_REGISTERED,
                _(
                    "A company with this credit code is already registered. "
                    "Ask its contact person to add you."
                ),
            )
        if company_id and Company.objects.filter(supervision_company_id=company_id).exists():
            raise Conflict(Code.COMPANY_ID_TAKEN, _("This CompanyId is already in use."))
        company = Company.objects.create(
            credit_code=credit_code,
            name=name,
            legal_representative=legal_representative,
            supervision_company_id=company_id or company_id_assign(region_code=region_code),
            region_code=region_code,
            contact_user=user,
        )
        CompanyMembership.objects.create(company=company, user=user, added_by=user)
        record_audit(
            actor=Actor.for_user(user),
            action="company.register",
            target_type="company",
            target_id=company.pk,
            after={
                "credit_code": credit_code,
                "name": name,
                "company_id": company.supervision_company_id,
                "contact": _masked_user(user),
            },
        )
    return company


def company_get_or_create_for_operator(
    *,
    credit_code: str,
    name: str = "",
    legal_representative: str = "",
    supervision_company_id: str = "",
) -> tuple[Company, bool]:
    """For `manage.py create_company_credential`: find the company, or create it without a contact."""
    credit_code = validate_credit_code(credit_code, field="credit_code")
    company_id = company_id_validate(supervision_company_id) if supervision_company_id.strip() else ""
    with transaction.atomic():
        existing = Company.objects.filter(credit_code=credit_code).first()
        if existing is not None:
            return existing, False
        if company_id and Company.objects.filter(supervision_company_id=company_id).exists():
            raise Conflict(Code.COMPANY_ID_TAKEN, _("This CompanyId is already in use."))
        region_code = _company_region(credit_code)
        company = Company.objects.create(
            credit_code=credit_code,
            name=name.strip()[:200] or credit_code,
            legal_representative=legal_representative.strip()[:50],
            supervision_company_id=company_id or company_id_assign(region_code=region_code),
            region_code=region_code,
        )
        record_audit(
            actor=Actor.system("manage.py"),
            action="company.register",
            target_type="company",
            target_id=company.pk,
            after={
                "credit_code": credit_code,
                "name": company.name,
                "company_id": company.supervision_company_id,
            },
        )
    return company, True


def _require_contact(*, company: Company, user: User) -> None:
    if company.contact_user_id != user.pk:
        raise PermissionDenied(
            Code.COMPANY_NOT_CONTACT, _("Only the company's designated contact person can do this.")
        )


def company_contact_candidate(*, phone: str) -> User:
    """The verified public user a phone number belongs to, for designating a contact or member."""
    phone = validate_mobile(phone, field="phone")
    user = User.objects.filter(phone_hash=lookup_hash(phone), kind=User.Kind.PUBLIC, is_active=True).first()
    if user is None:
        raise ValidationFailed.single(
            field="phone",
            code=Code.COMPANY_CONTACT_UNKNOWN,
            message=_("No account uses this phone number; the person must log in once first."),
        )
    if not user.is_real_name_verified:
        raise ValidationFailed.single(
            field="phone",
            code=Code.COMPANY_CONTACT_UNVERIFIED,
            message=_("This person has not completed real-name verification yet."),
        )
    return user


def company_contact_may_designate(*, company: Company, user: User) -> bool:
    """Who may ask for a new contact person (always with the legal representative's signed
    confirmation): the current contact, or - when the contact has left - the legal representative,
    recognised by the verified real name registered for the company."""
    if not user.is_authenticated or user.kind != User.Kind.PUBLIC:
        return False
    if company.contact_user_id == user.pk:
        return True
    return bool(
        user.is_real_name_verified
        and user.real_name
        and user.real_name.strip() == company.legal_representative.strip()
    )


def company_contact_change(
    *,
    company: Company,
    changed_by: User,
    new_contact_phone: str,
    reason: str,
    confirmed: bool,
    letter: UploadLike | None = None,
) -> Company:
    """Designate another contact person. Deliberate by design: a warning to confirm, a reason, and
    the legal representative's signed confirmation (`letter`: the authorisation letter signed by
    the legal representative and sealed, PDF or image, checked by content and kept encrypted).
    Asked by the current contact or the legal representative (see
    :func:`company_contact_may_designate`), so a company whose contact left is not stuck. The
    designation is kept on record (`ContactDesignation`), audited, both people are told by SMS, and
    the listeners of `accounts.hooks.contact_changed` (licensing: the authorities handling open
    applications) are told in the same transaction."""
    if not company_contact_may_designate(company=company, user=changed_by):
        raise PermissionDenied(
            Code.COMPANY_NOT_CONTACT,
            _("Only the company's contact person or its legal representative can do this."),
        )
    ensure_real_name_verified(changed_by)
    new_contact = company_contact_candidate(phone=new_contact_phone)
    if new_contact.pk == company.contact_user_id:
        raise ValidationFailed.single(
            field="phone",
            code=Code.COMPANY_CONTACT_UNCHANGED,
            message=_("This person is already the contact."),
        )
    reason = reason.strip()
    if not reason:
        raise ValidationFailed.single(
            field="reason", code=Code.COMPANY_REASON_REQUIRED, message=_("Give the reason for the change.")
        )
    if letter is None:
        raise ValidationFailed.single(
            field="letter",
            code=Code.COMPANY_LEGAL_REPRESENTATIVE_CONFIRMATION,
            message=_(
                "Upload the authorisation letter signed by the legal representative "
                "and sealed by the company."
            ),
        )
    checked = documents.check_document(letter, field="letter")
    if not confirmed:
        raise ValidationFailed.single(
            field="confirm",
            code=Code.COMPANY_CONFIRMATION_REQUIRED,
            message=_("Confirm that you understand what changing the contact person means."),
        )
    stored = store_private(checked.content, folder="accounts/contact-letters")
    now = timezone.now()
    with transaction.atomic():
        locked = Company.objects.select_for_update().get(pk=company.pk)
        previous = locked.contact_user
        locked.contact_user = new_contact
        locked.save(update_fields=["contact_user"])
        CompanyMembership.objects.get_or_create(
            company=locked, user=new_contact, defaults={"added_by": changed_by}
        )
        designation = ContactDesignation.objects.create(
            company=locked,
            contact=new_contact,
            previous_contact=previous,
            designated_by=changed_by,
            reason=reason[:2000],
            designated_at=now,
            letter_stored_name=stored,
            letter_original_name=checked.original_name,
            letter_content_type=checked.content_type,
            letter_sha256=checked.sha256,
        )
        record_audit(
            actor=Actor.for_user(changed_by),
            action="company.contact.change",
            target_type="company",
            target_id=locked.pk,
            before={"contact": _masked_user(previous)},
            after={"contact": _masked_user(new_contact)},
            reason=reason,
        )
        notice = _(
            "[Road Transport Administration] The designated contact person of %(company)s was changed "
            "to %(phone)s. If you did not expect this, contact the transport authority at once."
        ) % {"company": locked.name, "phone": mask_phone(new_contact.phone or "")}
        for person in (previous, new_contact):
            if person is not None and person.phone:
                send_sms_on_commit(phone=person.phone, text=notice, template="company_contact_changed")
        hooks.contact_changed(designation)
    return locked


def company_member_add(*, company: Company, added_by: User, phone: str) -> CompanyMembership:
    _require_contact(company=company, user=added_by)
    member = company_contact_candidate(phone=phone)
    with transaction.atomic():
        membership, created = CompanyMembership.objects.get_or_create(
            company=company, user=member, defaults={"added_by": added_by}
        )
        if not created:
            raise ValidationFailed.single(
                field="phone", code=Code.COMPANY_MEMBER_EXISTS, message=_("This person is already a member.")
            )
        record_audit(
            actor=Actor.for_user(added_by),
            action="company.member.add",
            target_type="company",
            target_id=company.pk,
            after={"member": _masked_user(member)},
        )
    return membership


def company_credential_issue(
    *, company: Company, user: User, name: str, environment: str
) -> IssuedCredential:
    """A contact person creates an API credential (the token is in the result, shown once)."""
    _require_contact(company=company, user=user)
    name = _required_text(name, field="name", limit=100, label=_("Credential name"))
    if environment not in CompanyCredential.Environment.values:
        raise ValidationFailed.single(
            field="environment", code=Code.COMPANY_FIELD_REQUIRED, message=_("Choose an environment.")
        )
    return company_credential_create(company=company, name=name, environment=environment, created_by=user)


def company_credential_withdraw(*, company: Company, user: User, credential_id: int) -> CompanyCredential:
    """A contact person revokes one of the company's credentials."""
    _require_contact(company=company, user=user)
    credential = CompanyCredential.objects.filter(pk=credential_id, company=company).first()
    if credential is None:
        raise NotFound(Code.CREDENTIAL_NOT_FOUND, _("No such credential."))
    return company_credential_revoke(credential=credential, revoked_by=user)
