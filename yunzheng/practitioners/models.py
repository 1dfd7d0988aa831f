"""Tables of the One-Network Office: the qualification-certificate registry and service cases.

Personal data (holder names, ID numbers, addresses, the personal-information form of a case) is
stored encrypted (EncryptedCharField) with a keyed lookup hash beside the ID number; pages show it
masked. Business rules live in `services.py`; the case state machine in `workflow.py`.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from yunzheng.core.fields import EncryptedCharField


class CertificateCategory(models.TextChoices):
    """Categories a road-transport qualification certificate (从业资格证) can carry."""

    CRUISING_TAXI = "cruising_taxi", _("Cruising-taxi driver")
    RIDE_HAILING = "ride_hailing", _("Ride-hailing driver")
    PASSENGER = "passenger", _("Road passenger transport driver")
    FREIGHT = "freight", _("Road freight transport driver")


class CreditGrade(models.TextChoices):
    """Service-quality credit grades (服务质量信誉考核等级)."""

    AAA = "AAA", "AAA"
    AA = "AA", "AA"
    A = "A", "A"
    B = "B", "B"


class CaseType(models.TextChoices):
    CREDIT_ASSESSMENT = "credit_assessment", _("Service-quality credit assessment")
    RENEWAL = "renewal", _("Certificate renewal")
    REPLACEMENT = "replacement", _("Certificate replacement")
    CHANGE_UNIT = "change_unit", _("Change of service unit")
    CHANGE_INFO = "change_info", _("Change of certificate information")
    CANCELLATION = "cancellation", _("Certificate cancellation")
    INFO_VERIFICATION = "info_verification", _("Information verification")


class CaseState(models.TextChoices):
    DRAFT = "draft", pgettext_lazy("case state", "Draft")
    SUBMITTED = "submitted", pgettext_lazy("case state", "Submitted")
    ACCEPTED = "accepted", pgettext_lazy("case state", "Accepted")
    RETURNED = "returned", pgettext_lazy("case state", "Returned for supplement")
    APPROVED = "approved", pgettext_lazy("case state", "Approved")
    REJECTED = "rejected", pgettext_lazy("case state", "Rejected")
    COMPLETED = "completed", pgettext_lazy("case state", "Completed")
    WITHDRAWN = "withdrawn", pgettext_lazy("case state", "Withdrawn")


# A certificate is "in a case" while one of these is open; the database allows one at a time.
OPEN_STATES = (CaseState.SUBMITTED, CaseState.ACCEPTED, CaseState.RETURNED, CaseState.APPROVED)
# Where the authority's clock runs (the queue's due date is meaningful).
CLOCK_STATES = (CaseState.SUBMITTED, CaseState.ACCEPTED)
FINAL_STATES = (CaseState.REJECTED, CaseState.COMPLETED, CaseState.WITHDRAWN)
# What the staff queue shows by default: cases waiting for the authority to act.
QUEUE_STATES = (CaseState.SUBMITTED, CaseState.ACCEPTED, CaseState.APPROVED)


class MaterialKind(models.TextChoices):
    PHOTO_2INCH = "photo_2inch", _("Recent two-inch bareheaded colour photo")
    DRIVING_LICENCE = "driving_licence", _("Driving licence")
    CERT_INFO_PAGE = "cert_info_page", _("Certificate information page")
    VIOLATION_PAGE = "violation_page", _("Violation record page")
    EDUCATION_RECORD = "education_record", _("Learning and education record for the cycle")
    EMPLOYMENT_CONTRACT = "employment_contract", _("Employment contract with the new service unit")
    ID_FRONT = "id_front", _("ID card, portrait side")
    ID_BACK = "id_back", _("ID card, national-emblem side")
    WHITE_PHOTO_2INCH = "white_photo_2inch", _("Two-inch photo on a white background")


class DeliveryMethod(models.TextChoices):
    COLLECT = "collect", _("Collect in person")
    MAIL = "mail", _("By mail")


class QualificationCertificate(models.Model):
    """A road-transport practitioner's qualification certificate as the issuing authority records it."""

    class Status(models.TextChoices):
        VALID = "valid", pgettext_lazy("certificate status", "Valid")
        SUSPENDED = "suspended", pgettext_lazy("certificate status", "Suspended")
        CANCELLED = "cancelled", pgettext_lazy("certificate status", "Cancelled")
        EXPIRED = "expired", pgettext_lazy("certificate status", "Expired")
        # Revoked by the authority (吊销): final, never revived by a renewal, replacement or import.
        REVOKED = "revoked", pgettext_lazy("certificate status", "Revoked")

    number = models.CharField(_("certificate number"), max_length=32)  # unique: Meta.constraints
    holder_name = EncryptedCharField(_("holder"))
    holder_id_number = EncryptedCharField(_("holder's ID number"))
    # lookup_hash of the holder's ID number: how a verified user finds their certificates.
    holder_id_hash = models.CharField(max_length=64, editable=False)  # indexed in Meta
    holder_address = EncryptedCharField(_("holder's address"), null=True, blank=True)
    holder = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="qualification_certificates",
        verbose_name=_("associated account"),
        db_index=False,  # a partial index in Meta: most imported certificates have no account yet
    )
    issuing_authority = models.CharField(_("issuing authority"), max_length=100)
    region_code = models.CharField(_("issuing region (GB/T 2260)"), max_length=6)
    first_issued_on = models.DateField(_("first issued on"))
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"))
    service_unit = models.CharField(_("service unit"), max_length=200, blank=True)
    service_unit_phone = models.CharField(_("service unit phone"), max_length=32, blank=True)
    # The holder's driving-licence class (准驾车型), e.g. "C1" or "A2D".
    licence_class = models.CharField(_("licence class"), max_length=20, blank=True)
    contact_name = EncryptedCharField(_("contact person"), null=True, blank=True)
    contact_phone = EncryptedCharField(_("contact phone"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.VALID)
    # Increases with every change of the registry record (an electronic licence mirrors it).
    version = models.PositiveIntegerField(_("version"), default=1)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("qualification certificate")
        verbose_name_plural = _("qualification certificates")
        ordering = ["number"]
        # Plain b-tree indexes declared here rather than with db_index=True, which on PostgreSQL
        # adds a second, varchar_pattern_ops index for LIKE 'x%' that no query here needs
        # (searches are icontains, which no b-tree serves): every index is written on each of
        # the registry imports' rows.
        indexes = [
            models.Index(fields=["holder_id_hash"], name="practitioners_cert_id_hash"),
            models.Index(
                fields=["holder"], condition=models.Q(holder__isnull=False), name="practitioners_cert_holder"
            ),
        ]
        constraints = [
            # A constraint, not unique=True, which on PostgreSQL adds a LIKE index besides.
            models.UniqueConstraint(fields=["number"], name="practitioners_certificate_number"),
            models.CheckConstraint(
                condition=models.Q(valid_until__gte=models.F("valid_from")),
                name="practitioners_certificate_validity_order",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    def status_on(self, today: dt.date) -> str:
        """The status a reader should see today: a valid certificate past its end date is expired."""
        if self.status == self.Status.VALID and self.valid_until < today:
            return self.Status.EXPIRED
        return self.status

    def is_within_validity(self, today: dt.date) -> bool:
        return self.status == self.Status.VALID and self.valid_from <= today <= self.valid_until


class CertificateCategoryGrant(models.Model):
    """One category on a certificate, with its own status so that some can be cancelled alone."""

    class Status(models.TextChoices):
        VALID = "valid", pgettext_lazy("certificate status", "Valid")
        CANCELLED = "cancelled", pgettext_lazy("certificate status", "Cancelled")

    certificate = models.ForeignKey(
        QualificationCertificate,
        on_delete=models.CASCADE,
        related_name="grants",
        db_index=False,  # practitioners_grant_once_per_category (certificate, category) serves it
    )
    category = models.CharField(_("category"), max_length=32, choices=CertificateCategory.choices)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.VALID)
    granted_on = models.DateField(_("granted on"))
    cancelled_on = models.DateField(_("cancelled on"), null=True, blank=True)

    class Meta:
        verbose_name = _("certificate category")
        verbose_name_plural = _("certificate categories")
        ordering = ["certificate", "category"]
        constraints = [
            models.UniqueConstraint(
                fields=["certificate", "category"], name="practitioners_grant_once_per_category"
            )
        ]

    def __str__(self) -> str:
        return f"{self.certificate_id}:{self.category} ({self.status})"


class ViolationRecord(models.Model):
    certificate = models.ForeignKey(
        QualificationCertificate, on_delete=models.CASCADE, related_name="violations"
    )
    occurred_on = models.DateField(_("date"))
    description = models.CharField(_("violation"), max_length=200)
    points = models.PositiveSmallIntegerField(_("points"), default=0)
    authority = models.CharField(_("handled by"), max_length=100, blank=True)
    handled = models.BooleanField(_("handled"), default=True)

    class Meta:
        verbose_name = _("violation record")
        verbose_name_plural = _("violation records")
        ordering = ["-occurred_on", "-pk"]

    def __str__(self) -> str:
        return f"{self.occurred_on} {self.description}"


class CaseNumberSequence(models.Model):
    """Counter behind human-readable case numbers (`ZJ-2026-000123`), one per province and year."""

    prefix = models.CharField(max_length=4)
    year = models.PositiveSmallIntegerField()
    last_value = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["prefix", "year"], name="practitioners_case_sequence_once")
        ]

    def __str__(self) -> str:
        return f"{self.prefix}-{self.year}: {self.last_value}"


class ServiceCase(models.Model):
    """One application (办件) for one service (事项) about one certificate."""

    number = models.CharField(_("case number"), max_length=20, unique=True, null=True, blank=True)
    case_type = models.CharField(_("service"), max_length=32, choices=CaseType.choices)
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="office_cases",
        verbose_name=_("applicant"),
    )
    certificate = models.ForeignKey(
        QualificationCertificate,
        on_delete=models.PROTECT,
        related_name="cases",
        verbose_name=_("certificate"),
    )
    # The certificate's issuing region: whose staff handle the case. Province and city are stored
    # too, so staff queues filter by equality on an index instead of LIKE on a prefix.
    region_code = models.CharField(_("region (GB/T 2260)"), max_length=6)
    province_code = models.CharField(max_length=6, editable=False)
    city_code = models.CharField(max_length=6, editable=False)
    state = models.CharField(_("state"), max_length=16, choices=CaseState.choices, default=CaseState.DRAFT)
    agreed_at = models.DateTimeField(_("instructions agreed at"), null=True, blank=True)
    # JSON of the personal-information form and the mailing address (services.PersonalInfo),
    # encrypted: phone numbers and addresses are personal data.
    personal_data = EncryptedCharField(null=True, blank=True)
    # Type-specific, non-personal fields (cycle year, new unit, categories to cancel, corrections).
    details = models.JSONField(default=dict, blank=True)
    delivery_method = models.CharField(
        _("delivery"), max_length=16, choices=DeliveryMethod.choices, blank=True
    )
    created_at = models.DateTimeField(_("created at"))
    updated_at = models.DateTimeField(_("updated at"))
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    accepted_at = models.DateTimeField(pgettext_lazy("case", "accepted at"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    completed_at = models.DateTimeField(pgettext_lazy("case", "completed at"), null=True, blank=True)
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    # Statutory deadlines (deadlines.py), stored so queues never compute calendars per row.
    accept_due_on = models.DateField(_("acceptance due"), null=True, blank=True)
    decide_due_on = models.DateField(_("decision due"), null=True, blank=True)
    # The deadline of the step the authority is on now (acceptance, decision or answer); empty
    # while the clock is paused (returned for supplement) or stopped (final states).
    due_on = models.DateField(_("due"), null=True, blank=True)
    # Counted across a year whose statutory holidays are not known yet (weekdays only): shown as
    # provisional and recomputed when staff confirm that year (core.calendar_years).
    due_provisional = models.BooleanField(_("due date provisional"), default=False)
    returned_on = models.DateField(_("returned for supplement on"), null=True, blank=True)
    paused_working_days = models.PositiveSmallIntegerField(_("working days paused"), default=0)
    outcome_reason = models.TextField(_("reason"), blank=True)
    completion_note = models.CharField(_("completion note"), max_length=200, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("handled by"),
    )

    class Meta:
        verbose_name = _("service case")
        verbose_name_plural = _("service cases")
        ordering = ["-created_at", "-pk"]
        indexes = [
            # The default staff queue (waiting for the authority, earliest due first), one partial
            # index per scope level in exactly the queue's order: the first page is an index scan
            # that stops after 50 rows, and overdue / due-today are ranges of the same index.
            models.Index(
                fields=["city_code", "due_on", "submitted_at", "id"],
                condition=models.Q(state__in=[s.value for s in QUEUE_STATES]),
                name="office_queue_city",
            ),
            models.Index(
                fields=["province_code", "due_on", "submitted_at", "id"],
                condition=models.Q(state__in=[s.value for s in QUEUE_STATES]),
                name="office_queue_province",
            ),
            models.Index(
                fields=["due_on", "submitted_at", "id"],
                condition=models.Q(state__in=[s.value for s in QUEUE_STATES]),
                name="office_queue_national",
            ),
            # Queues filtered by one state (history, rejected, ...), per scope level.
            models.Index(fields=["city_code", "state", "due_on"], name="office_case_city_queue"),
            models.Index(fields=["province_code", "state", "due_on"], name="office_case_prov_queue"),
            models.Index(fields=["state", "due_on"], name="office_case_national_queue"),
            # My Office: a user's cases, newest first.
            models.Index(fields=["applicant", "-created_at"], name="office_case_applicant"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["certificate"],
                condition=models.Q(state__in=[s.value for s in OPEN_STATES]),
                name="practitioners_one_open_case_per_certificate",
            ),
            models.CheckConstraint(
                condition=~models.Q(state=CaseState.REJECTED, outcome_reason=""),
                name="practitioners_rejection_has_reason",
            ),
            models.CheckConstraint(
                condition=models.Q(state=CaseState.DRAFT) | models.Q(number__isnull=False),
                name="practitioners_submitted_case_has_number",
            ),
        ]

    def __str__(self) -> str:
        return self.number or f"draft #{self.pk}"

    @property
    def is_draft(self) -> bool:
        return self.state == CaseState.DRAFT

    def is_overdue(self, today: dt.date) -> bool:
        return self.due_on is not None and self.due_on < today

    def is_due_today(self, today: dt.date) -> bool:
        return self.due_on == today


class CreditAssessment(models.Model):
    """The service-quality credit grade of one certificate for one assessment cycle (a year)."""

    certificate = models.ForeignKey(
        QualificationCertificate, on_delete=models.CASCADE, related_name="credit_assessments"
    )
    cycle_year = models.PositiveSmallIntegerField(_("assessment cycle"))
    grade = models.CharField(_("grade"), max_length=4, choices=CreditGrade.choices)
    assessed_on = models.DateField(_("assessed on"))
    authority = models.CharField(_("assessed by"), max_length=100)
    case = models.OneToOneField(
        ServiceCase,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="credit_assessment",
        verbose_name=_("case"),
    )
    # Set when the certificate is cancelled: the voucher (an electronic licence) is revoked too.
    revoked_at = models.DateTimeField(pgettext_lazy("credit voucher", "revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("credit assessment")
        verbose_name_plural = _("credit assessments")
        ordering = ["-cycle_year"]
        constraints = [
            models.UniqueConstraint(
                fields=["certificate", "cycle_year"], name="practitioners_one_grade_per_cycle"
            )
        ]

    def __str__(self) -> str:
        return f"{self.certificate_id} {self.cycle_year} {self.grade}"


class CaseMaterial(models.Model):
    """One uploaded material, stored re-encoded and encrypted outside any public URL."""

    case = models.ForeignKey(ServiceCase, on_delete=models.CASCADE, related_name="materials")
    kind = models.CharField(_("material"), max_length=32, choices=MaterialKind.choices)
    storage_name = models.CharField(max_length=200)
    sha256 = models.CharField(max_length=64)
    content_type = models.CharField(max_length=32)
    size = models.PositiveIntegerField()
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    uploaded_at = models.DateTimeField(_("uploaded at"))
    # Set when a newer upload of the same kind replaces this one (kept for the record).
    replaced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("case material")
        verbose_name_plural = _("case materials")
        ordering = ["case", "kind", "-uploaded_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "kind"],
                condition=models.Q(replaced_at__isnull=True),
                name="practitioners_one_current_material_per_kind",
            )
        ]

    def __str__(self) -> str:
        return f"{self.case_id}:{self.kind}"


class CaseTransition(models.Model):
    """Append-only history of a case (the audit log holds the same, hash-chained)."""

    case = models.ForeignKey(ServiceCase, on_delete=models.CASCADE, related_name="transitions")
    action = models.CharField(max_length=16)
    from_state = models.CharField(max_length=16, choices=CaseState.choices)
    to_state = models.CharField(max_length=16, choices=CaseState.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_role = models.CharField(max_length=16)
    reason = models.TextField(blank=True)
    at = models.DateTimeField()

    class Meta:
        verbose_name = _("case transition")
        verbose_name_plural = _("case transitions")
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["case", "at"], name="office_transition_case")]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.from_state} -> {self.to_state}"


class ProvinceMaterialList(models.Model):
    """The materials a province asks for one service, maintained by that province's staff; a
    service without one uses the national list of ``catalogue.SERVICES``."""

    province_code = models.CharField(_("province"), max_length=6)
    case_type = models.CharField(_("service"), max_length=32, choices=CaseType.choices)
    required = models.JSONField(_("required materials"), default=list)
    optional = models.JSONField(_("optional materials"), default=list)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        verbose_name = _("provincial material list")
        verbose_name_plural = _("provincial material lists")
        constraints = [
            models.UniqueConstraint(
                fields=["province_code", "case_type"], name="practitioners_material_list_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.province_code}/{self.case_type}"


class BusinessContact(models.Model):
    """联系我们: a provincial business manager drivers may call, kept by that province's staff."""

    province_code = models.CharField(_("province (GB/T 2260)"), max_length=6, db_index=True)
    name = models.CharField(_("full name"), max_length=50)
    unit = models.CharField(_("unit"), max_length=100, blank=True)
    # A work telephone of a public office, not personal data.
    phone = models.CharField(_("telephone"), max_length=30)
    hours = models.CharField(_("office hours"), max_length=100, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("business contact")
        verbose_name_plural = _("business contacts")
        ordering = ("province_code", "pk")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(province_code__regex=r"^\d{2}0000$"),
                name="practitioners_contact_province_code",
            )
        ]

    def __str__(self) -> str:
        return f"{self.province_code} {self.name}"


class VerificationRequest(models.Model):
    """Information verification (核查) for a certificate the driver cannot find under their ID
    number: they name the certificate number and the issuing authority; the authority answers
    within 2 working days of accepting the request (found, corrected or unchanged)."""

    class State(models.TextChoices):
        SUBMITTED = "submitted", pgettext_lazy("verification request", "Submitted")
        ACCEPTED = "accepted", pgettext_lazy("verification request", "Accepted")
        ANSWERED = "answered", pgettext_lazy("verification request", "Answered")

    class Answer(models.TextChoices):
        FOUND = "found", pgettext_lazy("verification answer", "Found under your ID number")
        CORRECTED = "corrected", pgettext_lazy("verification answer", "Registry corrected")
        UNCHANGED = "unchanged", pgettext_lazy("verification answer", "Registry unchanged")

    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="verification_requests"
    )
    certificate_number = models.CharField(_("certificate number"), max_length=32)
    issuing_authority = models.CharField(_("issuing authority"), max_length=100)
    region_code = models.CharField(_("issuing region (GB/T 2260)"), max_length=6, db_index=True)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.SUBMITTED)
    submitted_at = models.DateTimeField(_("submitted at"))
    accepted_at = models.DateTimeField(
        pgettext_lazy("verification request", "accepted at"), null=True, blank=True
    )
    # 2 working days from acceptance; provisional while that year's holidays are unknown.
    due_on = models.DateField(_("answer due"), null=True, blank=True)
    due_provisional = models.BooleanField(_("due date provisional"), default=False)
    answer = models.CharField(_("answer"), max_length=16, choices=Answer.choices, blank=True)
    answer_note = models.TextField(_("note"), blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    certificate = models.ForeignKey(
        QualificationCertificate, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("verification request")
        verbose_name_plural = _("verification requests")
        ordering = ["-submitted_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.certificate_number} ({self.state})"
