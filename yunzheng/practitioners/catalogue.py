"""The services (事项) of the One-Network Office: what each one asks for, in one place.

For each case type: its business instructions (which the applicant must read and agree to), which
certificates it applies to, its type-specific fields (checked by `clean_details`), the materials
it requires, and whether a new certificate results (then the applicant chooses a delivery).
Pages, the API and the services all read these definitions.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yunzheng.core.crypto import decrypt_field, encrypt_field, is_field_token
from yunzheng.core.errors import ErrorDetail, ValidationFailed
from yunzheng.core.ids import find_non_halfwidth, validate_mobile
from yunzheng.practitioners.error_codes import OfficeErrorCode as Code
from yunzheng.practitioners.models import (
    CaseType,
    CertificateCategory,
    CertificateCategoryGrant,
    MaterialKind,
    QualificationCertificate,
)

M = MaterialKind

# Registry fields an information-verification request may say are wrong (and staff may correct).
VERIFIABLE_FIELDS: dict[str, Promise] = {
    "first_issued_on": gettext_lazy("First issued on"),
    "valid_from": gettext_lazy("Valid from"),
    "valid_until": gettext_lazy("Valid until"),
    "service_unit": gettext_lazy("Service unit"),
    "issuing_authority": gettext_lazy("Issuing authority"),
}
DATE_FIELDS = frozenset({"first_issued_on", "valid_from", "valid_until"})

#: Driving-licence classes (准驾车型, GB/T and the Ministry of Public Security's rules); a licence
#: may combine several, written one after the other (e.g. "A2D").
LICENCE_CLASSES = (
    "A1",
    "A2",
    "A3",
    "B1",
    "B2",
    "C1",
    "C2",
    "C3",
    "C4",
    "C5",
    "C6",
    "D",
    "E",
    "F",
    "M",
    "N",
    "P",
)
_LICENCE_CLASS = re.compile("(" + "|".join(sorted(LICENCE_CLASSES, key=len, reverse=True)) + ")")

#: What an information change may change on the certificate (the guide's editable fields besides
#: the reason): the licence class, the unit's phone, the address, the contact person and phone.
CHANGE_INFO_FIELDS = ("licence_class", "unit_phone", "new_address", "new_contact_name", "new_contact_phone")


def normalise_licence_class(raw: str) -> str | None:
    """Upper-case half-width class codes without separators ("a2、d" -> "A2D"); None if invalid."""
    text = unicodedata.normalize("NFKC", raw or "").upper()
    text = re.sub(r"[\s,，、/;；+]", "", text)
    if not text:
        return None
    parts = _LICENCE_CLASS.findall(text)
    if "".join(parts) != text or len(set(parts)) != len(parts):
        return None
    return "".join(sorted(parts, key=LICENCE_CLASSES.index))


REPLACEMENT_REASONS: dict[str, Promise] = {
    "lost": gettext_lazy("Lost"),
    "damaged": gettext_lazy("Damaged"),
}


@dataclass(frozen=True)
class ServiceDefinition:
    case_type: CaseType
    summary: Promise
    instructions: tuple[Promise, ...]
    materials: tuple[MaterialKind, ...]
    optional_materials: tuple[MaterialKind, ...] = ()
    issues_new_certificate: bool = False
    # Information verification may concern any certificate that is not cancelled (its validity
    # may be the very thing that is wrong); every other service needs one within validity.
    needs_valid_certificate: bool = True

    @property
    def title(self) -> str:
        return str(CaseType(self.case_type).label)

    @property
    def slug(self) -> str:
        return self.case_type.replace("_", "-")


_COMMON_INSTRUCTIONS = (
    gettext_lazy(
        "Materials are photos or scans in PNG or JPEG format, at most 10 MB each, clear and complete; "
        "they are checked by their content, not by their file name."
    ),
    gettext_lazy(
        "You may withdraw the application until it is accepted. Acceptance is due within 2 working "
        "days of submission and a decision within 3 working days of acceptance; time spent waiting "
        "for your supplement does not count."
    ),
    gettext_lazy(
        "You will get an SMS at every step; My Office shows the progress, the due dates and the outcome."
    ),
)

SERVICES: dict[CaseType, ServiceDefinition] = {
    CaseType.CREDIT_ASSESSMENT: ServiceDefinition(
        case_type=CaseType.CREDIT_ASSESSMENT,
        summary=gettext_lazy(
            "The yearly service-quality credit assessment of a taxi or ride-hailing driver."
        ),
        instructions=(
            gettext_lazy(
                "The assessment covers one cycle (a calendar year). Upload your learning and education "
                "record for the cycle, the certificate information page and the violation record page."
            ),
            gettext_lazy(
                "Drivers who work on their own may leave the service company empty. After approval "
                "you can download the credit assessment voucher as a picture or a PDF."
            ),
            *_COMMON_INSTRUCTIONS,
        ),
        materials=(M.EDUCATION_RECORD, M.CERT_INFO_PAGE, M.VIOLATION_PAGE),
    ),
    CaseType.RENEWAL: ServiceDefinition(
        case_type=CaseType.RENEWAL,
        summary=gettext_lazy(
            "Renew a certificate that is about to expire; the new one is valid for six years."
        ),
        instructions=(
            gettext_lazy(
                "Apply within the validity of your certificate. Upload a recent two-inch bareheaded "
                "colour photo, your driving licence, the certificate information page and the violation "
                "record page."
            ),
            gettext_lazy("Choose whether to collect the new certificate in person or to receive it by mail."),
            *_COMMON_INSTRUCTIONS,
        ),
        materials=(M.PHOTO_2INCH, M.DRIVING_LICENCE, M.CERT_INFO_PAGE, M.VIOLATION_PAGE),
        issues_new_certificate=True,
    ),
    CaseType.REPLACEMENT: ServiceDefinition(
        case_type=CaseType.REPLACEMENT,
        summary=gettext_lazy("Replace a lost or damaged certificate; the validity stays the same."),
        instructions=(
            gettext_lazy(
                "Upload a recent two-inch bareheaded colour photo, your driving licence, the certificate "
                "information page and the violation record page."
            ),
            gettext_lazy("Choose whether to collect the new certificate in person or to receive it by mail."),
            *_COMMON_INSTRUCTIONS,
        ),
        materials=(M.PHOTO_2INCH, M.DRIVING_LICENCE, M.CERT_INFO_PAGE, M.VIOLATION_PAGE),
        issues_new_certificate=True,
    ),
    CaseType.CHANGE_UNIT: ServiceDefinition(
        case_type=CaseType.CHANGE_UNIT,
        summary=gettext_lazy("Record a new service unit (the company you drive for)."),
        instructions=(
            gettext_lazy(
                "Give the new unit, its phone number and the reason for the change. Upload a recent "
                "two-inch photo and the employment contract with the new unit."
            ),
            gettext_lazy("A certificate showing the new unit is issued: choose how you receive it."),
            *_COMMON_INSTRUCTIONS,
        ),
        materials=(M.PHOTO_2INCH, M.EMPLOYMENT_CONTRACT),
        issues_new_certificate=True,
    ),
    CaseType.CHANGE_INFO: ServiceDefinition(
        case_type=CaseType.CHANGE_INFO,
        summary=gettext_lazy(
            "Change the holder's information on the certificate (the name after a verified change, or "
            "the address)."
        ),
        instructions=(
            gettext_lazy(
                "The name on the certificate can only become the name of your verified identity. Upload "
                "a recent two-inch photo, both sides of your ID card and the certificate information page."
            ),
            gettext_lazy("A certificate with the new information is issued: choose how you receive it."),
            *_COMMON_INSTRUCTIONS,
        ),
        materials=(M.PHOTO_2INCH, M.ID_FRONT, M.ID_BACK, M.CERT_INFO_PAGE),
        issues_new_certificate=True,
    ),
    CaseType.CANCELLATION: ServiceDefinition(
        case_type=CaseType.CANCELLATION,
        summary=gettext_lazy("Cancel some or all categories of a certificate."),
        instructions=(
            gettext_lazy(
                "Choose the categories to cancel. Upload both sides of your ID card and a two-inch photo "
                "on a white background; when some categories remain, also the certificate information "
                "page and the violation record page."
            ),
            gettext_lazy("A cancelled category cannot be restored; you would have to qualify again."),
            *_COMMON_INSTRUCTIONS,
        ),
        materials=(M.ID_FRONT, M.ID_BACK, M.WHITE_PHOTO_2INCH),
    ),
    CaseType.INFO_VERIFICATION: ServiceDefinition(
        case_type=CaseType.INFO_VERIFICATION,
        summary=gettext_lazy(
            "The certificate data shown here is wrong: ask the issuing authority to check and correct it."
        ),
        instructions=(
            gettext_lazy(
                "Say which data is wrong and what it should be. The original issuing authority answers "
                "within 2 working days; a correction updates the registry and is recorded."
            ),
            gettext_lazy("A photo of the certificate information page helps the authority, but is optional."),
            gettext_lazy("You will get an SMS when the authority answers."),
        ),
        materials=(),
        optional_materials=(M.CERT_INFO_PAGE,),
        needs_valid_certificate=False,
    ),
}


def service(case_type: str) -> ServiceDefinition:
    return SERVICES[CaseType(case_type)]


def service_by_slug(slug: str) -> ServiceDefinition | None:
    try:
        return SERVICES[CaseType(slug.replace("-", "_"))]
    except ValueError:
        return None


def valid_categories(certificate: QualificationCertificate) -> list[str]:
    return [
        grant.category
        for grant in certificate.grants.all()
        if grant.status == CertificateCategoryGrant.Status.VALID
    ]


def material_lists(case_type: str, region_code: str = "") -> tuple[list[str], list[str], str]:
    """(required, optional, source) of a service in the province of ``region_code``: the list the
    province's staff maintain, else the national list of this catalogue (source "national")."""
    from yunzheng.practitioners.models import ProvinceMaterialList

    definition = service(case_type)
    if region_code:
        province = region_code[:2] + "0000"
        own = ProvinceMaterialList.objects.filter(province_code=province, case_type=case_type).first()
        if own is not None:
            return list(own.required), list(own.optional), province
    return (
        [str(kind) for kind in definition.materials],
        [str(kind) for kind in definition.optional_materials],
        "national",
    )


def required_materials(
    *,
    case_type: str,
    details: Mapping[str, Any],
    certificate_categories: list[str],
    region_code: str = "",
) -> list[str]:
    """The material kinds a case must have before submission, in the province of the certificate
    (cancellation depends on the choice)."""
    kinds, _optional, _source = material_lists(case_type, region_code)
    if case_type == CaseType.CANCELLATION:
        cancelled = set(details.get("categories") or [])
        if not set(certificate_categories) <= cancelled:
            kinds += [k for k in (M.CERT_INFO_PAGE, M.VIOLATION_PAGE) if k not in kinds]
    if case_type == CaseType.REPLACEMENT and details.get("replacement_reason") == "lost":
        # Nobody can photograph the pages of a certificate they lost.
        kinds = [k for k in kinds if k not in (M.CERT_INFO_PAGE, M.VIOLATION_PAGE)]
    return kinds


def allowed_materials(
    *,
    case_type: str,
    details: Mapping[str, Any],
    certificate_categories: list[str],
    region_code: str = "",
) -> list[str]:
    _required, optional, _source = material_lists(case_type, region_code)
    kinds = required_materials(
        case_type=case_type,
        details=details,
        certificate_categories=certificate_categories,
        region_code=region_code,
    )
    return kinds + [kind for kind in optional if kind not in kinds]


# --------------------------------------------------------------------------------------------
# Type-specific fields
# --------------------------------------------------------------------------------------------


def _text(raw: Mapping[str, Any], key: str, *, limit: int) -> str:
    value = raw.get(key)
    return str(value).strip()[:limit] if value is not None else ""


def _phone_like(value: str) -> bool:
    # A unit's phone may be a landline with area code and extension: digits, spaces, - and +.
    return bool(re.fullmatch(r"\+?[0-9][0-9 \-]{5,19}", value)) and not find_non_halfwidth(value)


def cycle_years(today: dt.date) -> list[int]:
    """Cycles that can be applied for now: the past calendar year (the grade applies to this one)."""
    return [today.year - 1]


def clean_details(
    *,
    case_type: str,
    certificate: QualificationCertificate,
    raw: Mapping[str, Any],
    today: dt.date,
    account_name: str = "",
) -> dict[str, Any]:
    """Check the type-specific fields of an application; returns the cleaned dict to store."""
    errors: list[ErrorDetail] = []

    def error(field: str, code: str, message: str) -> None:
        errors.append(ErrorDetail(field=field, code=code, message=message))

    def required(key: str, *, limit: int) -> str:
        value = _text(raw, key, limit=limit)
        if not value:
            error(key, Code.FIELD_REQUIRED, _("This field is required."))
        return value

    def licence_class(*, required: bool) -> str:
        value = _text(raw, "licence_class", limit=20)
        if not value:
            if required:
                error("licence_class", Code.FIELD_REQUIRED, _("Enter the licence class (e.g. C1 or A2D)."))
            return ""
        normalised = normalise_licence_class(value)
        if normalised is None:
            error(
                "licence_class",
                Code.LICENCE_CLASS_INVALID,
                _("Enter licence classes such as C1, B2 or A2D (%(classes)s).")
                % {"classes": " ".join(LICENCE_CLASSES)},
            )
            return value
        return normalised

    cleaned: dict[str, Any] = {}
    kind = CaseType(case_type)
    if kind == CaseType.CREDIT_ASSESSMENT:
        try:
            year = int(str(raw.get("cycle_year", "")).strip())
        except ValueError:
            year = 0
        if year not in cycle_years(today):
            error(
                "cycle_year",
                Code.CYCLE_YEAR_INVALID,
                _("Choose an assessment cycle: %(years)s.")
                % {"years": ", ".join(map(str, cycle_years(today)))},
            )
        elif certificate.credit_assessments.filter(cycle_year=year).exists():
            error("cycle_year", Code.CYCLE_ALREADY_ASSESSED, _("This cycle has already been assessed."))
        cleaned["cycle_year"] = year
        # Individuals may leave the company empty.
        cleaned["service_company"] = _text(raw, "service_company", limit=200)
    if kind in (CaseType.RENEWAL, CaseType.REPLACEMENT):
        # The guide asks for the licence class (准驾车型) with renewal and replacement.
        cleaned["licence_class"] = licence_class(required=True)
    if kind == CaseType.RENEWAL:
        cleaned["reason"] = required("reason", limit=300)
    elif kind == CaseType.REPLACEMENT:
        reason = _text(raw, "replacement_reason", limit=16)
        if reason not in REPLACEMENT_REASONS:
            error(
                "replacement_reason",
                Code.FIELD_REQUIRED,
                _("Say whether the certificate was lost or damaged."),
            )
        cleaned["replacement_reason"] = reason
    elif kind == CaseType.CHANGE_UNIT:
        cleaned["new_unit"] = required("new_unit", limit=200)
        phone = required("unit_phone", limit=20)
        if phone and not _phone_like(phone):
            error(
                "unit_phone",
                Code.PHONE_INVALID,
                _("Enter a phone number with digits only (area code allowed)."),
            )
        cleaned["unit_phone"] = phone
        cleaned["reason"] = required("reason", limit=300)
        if cleaned["new_unit"] and cleaned["new_unit"] == certificate.service_unit:
            error("new_unit", Code.NOTHING_CHANGES, _("This is already the certificate's service unit."))
    elif kind == CaseType.CHANGE_INFO:
        new_address = _text(raw, "new_address", limit=120)
        update_name = str(raw.get("update_name", "")).lower() in ("1", "true", "on", "yes")
        if update_name and account_name and account_name == certificate.holder_name:
            error("update_name", Code.NOTHING_CHANGES, _("The certificate already shows your verified name."))
        new_class = licence_class(required=False)
        unit_phone = _text(raw, "unit_phone", limit=20)
        if unit_phone and not _phone_like(unit_phone):
            error(
                "unit_phone",
                Code.PHONE_INVALID,
                _("Enter a phone number with digits only (area code allowed)."),
            )
        contact_name = _text(raw, "new_contact_name", limit=40)
        contact_phone = _text(raw, "new_contact_phone", limit=200)
        if contact_phone and is_field_token(contact_phone):  # as stored, re-checked on submission
            contact_phone = decrypt_field(contact_phone)
        if contact_phone:
            try:
                contact_phone = validate_mobile(contact_phone, field="new_contact_phone")
            except ValidationFailed as failed:
                errors.extend(failed.details)
        changes = {
            "licence_class": new_class and new_class != certificate.licence_class,
            "unit_phone": unit_phone and unit_phone != certificate.service_unit_phone,
            "new_address": bool(new_address),
            "new_contact_name": contact_name and contact_name != (certificate.contact_name or ""),
            "new_contact_phone": contact_phone and contact_phone != (certificate.contact_phone or ""),
        }
        if not update_name and not any(changes.values()) and not errors:
            error(
                "new_address",
                Code.NOTHING_CHANGES,
                _(
                    "Say what should change: the name, the licence class, the unit's phone, the address, "
                    "the contact person or the contact phone."
                ),
            )
        cleaned["update_name"] = update_name
        cleaned["licence_class"] = new_class
        cleaned["unit_phone"] = unit_phone
        cleaned["new_address"] = new_address
        cleaned["new_contact_name"] = contact_name
        # A phone number is personal data: kept encrypted in the case (core.crypto), masked on pages.
        cleaned["new_contact_phone"] = encrypt_field(contact_phone) if contact_phone else ""
        cleaned["reason"] = required("reason", limit=300)
    elif kind == CaseType.CANCELLATION:
        chosen = raw.get("categories") or []
        if isinstance(chosen, str):
            chosen = [chosen]
        held = valid_categories(certificate)
        categories = sorted({str(c) for c in chosen})
        if not categories:
            error("categories", Code.CATEGORIES_REQUIRED, _("Choose at least one category to cancel."))
        elif not set(categories) <= set(held):
            error(
                "categories",
                Code.CATEGORY_NOT_HELD,
                _("Only categories the certificate holds can be cancelled."),
            )
        cleaned["categories"] = categories
        cleaned["reason"] = _text(raw, "reason", limit=300)
    elif kind == CaseType.INFO_VERIFICATION:
        claimed: dict[str, str] = {}
        # Form input names the fields claimed_<field>; what is stored (and re-checked on
        # submission) keeps them in a "claimed" dict.
        stored = raw.get("claimed")
        source = (
            stored if isinstance(stored, Mapping) else {f: raw.get(f"claimed_{f}") for f in VERIFIABLE_FIELDS}
        )
        for field in VERIFIABLE_FIELDS:
            value = _text(source, field, limit=200)
            if not value:
                continue
            if field in DATE_FIELDS:
                try:
                    value = dt.date.fromisoformat(value).isoformat()
                except ValueError:
                    error(f"claimed_{field}", Code.DATE_INVALID, _("Enter a date as YYYY-MM-DD."))
                    continue
            claimed[field] = value
        if not claimed and not errors:
            error(
                "claimed_valid_until",
                Code.NOTHING_CHANGES,
                _("Give the correct value of at least one field."),
            )
        cleaned["claimed"] = claimed
        cleaned["description"] = required("description", limit=500)
    if errors:
        raise ValidationFailed(Code.FORM_INVALID, _("Please correct the marked fields."), details=errors)
    return cleaned


def category_labels(categories: list[str]) -> list[str]:
    return [str(CertificateCategory(c).label) for c in categories if c in CertificateCategory.values]
