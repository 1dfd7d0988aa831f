"""Tables of the ride-hailing platform licensing workflow (网约车平台经营许可).

An application (`LicenceApplication`) walks through steps; every time a step opens a `Stage` row
is created (kind, responsible party, due date on the statutory calendar, extension, completion),
and every move between steps is a `StageTransition` (from, to, action, actor, reason, time) plus a
hash-chained audit entry. The allowed moves live in `workflow.py`, the deadline arithmetic in
`deadlines.py`, the writes in `services.py`.

Company-level records that outlive one application: the test-passed document, the three security
evaluations, operating licences, test bookings. Files (annexes, reports, letters) are stored in
private storage under random names and served only through permission-checked views.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from yunzheng.accounts.models import Company


class Party(models.TextChoices):
    """Who must act next: the company, a transport authority, or one of the five departments."""

    COMPANY = "company", _("Company")
    CITY_TRANSPORT = "city_transport", _("City transport authority")
    MINISTRY = "ministry", _("Ministry of Transport")
    PROVINCE_TRANSPORT = "province_transport", _("Provincial transport department")
    PUBLIC_SECURITY = "public_security", _("Public security")
    PBOC = "pboc", _("People's Bank of China")
    TAX = "tax", _("Taxation")
    COMMUNICATIONS = "communications", _("Communications administration")
    CYBERSPACE = "cyberspace", _("Cyberspace administration")


# The five departments that review the online service capability in parallel, by their
# accounts.StaffProfile.Department value (identical strings).
REVIEW_DEPARTMENTS: tuple[str, ...] = (
    Party.PUBLIC_SECURITY,
    Party.PBOC,
    Party.TAX,
    Party.COMMUNICATIONS,
    Party.CYBERSPACE,
)


class LicencePath(models.TextChoices):
    NATIONAL = "national", _("Operating licence (with online service capability determination)")
    LOCAL = "local", _("Local licence (地牌) for a company already licensed")


class Step(models.TextChoices):
    """Where an application stands. Every non-terminal step is also a Stage kind."""

    QUOTA_MATERIALS = "quota_materials", _("Quota: company submits annexes 2, 3, 4 and cloud-server proof")
    QUOTA_REVIEW = "quota_review", _("Quota: city transport authority sends the work contact letter")
    # Local licence (地牌) only: the second city reviews the local materials itself.
    LOCAL_REVIEW = "local_review", _("City transport authority reviews the local application")
    MINISTRY_REPLY = "ministry_reply", _("Ministry replies to the work contact letter")
    COMPANY_INFO = "company_info", _("Company completes its information")
    TEST_ACCOUNT = "test_account", _("Ministry opens the test account")
    VPN_ACCOUNT = "vpn_account", _("Ministry opens the VPN account")
    TEST_BOOKING = "test_booking", _("Company books a test appointment")
    TEST_RUN = "test_run", _("Connectivity and consistency tests")
    CAPABILITY_MATERIALS = "capability_materials", _("Company submits online service capability materials")
    CAPABILITY_INTAKE = "capability_intake", _("City window passes the materials to the province")
    CAPABILITY_REVIEW = "capability_review", _("Online service capability review (five departments)")
    CAPABILITY_REVISION = "capability_revision", _("Company revises the capability materials")
    EVALUATIONS = "evaluations", _("Company presents the three security evaluations")
    LICENCE_DECISION = "licence_decision", _("Decision and licence")
    GRANTED = "granted", _("Licence granted")
    REJECTED = "rejected", _("Refused")
    WITHDRAWN = "withdrawn", _("Withdrawn")


TERMINAL_STEPS = (Step.GRANTED, Step.REJECTED, Step.WITHDRAWN)


class Phase(models.TextChoices):
    """The stages of the issue, grouping steps for display."""

    QUOTA = "quota", _("Local quota")
    MINISTRY = "ministry", _("Ministry reply and accounts")
    TEST = "test", _("Technical test")
    CAPABILITY = "capability", _("Online service capability determination")
    EVALUATIONS = "evaluations", _("Three security evaluations")
    DECISION = "decision", _("Decision and licence")


class CityQuota(models.Model):
    """Whether a city accepts new ride-hailing platforms (some cities stopped, by a notice)."""

    city_code = models.CharField(_("city (GB/T 2260)"), max_length=6, unique=True)
    accepting = models.BooleanField(_("accepting new platforms"), default=True)
    notice_number = models.CharField(_("notice number"), max_length=100, blank=True)
    notice_title = models.CharField(_("notice title"), max_length=200, blank=True)
    notice_date = models.DateField(_("notice date"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"))
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Whether a local licence (地牌) here needs the three evaluations presented locally. The guide
    # says "where required": each city decides; requiring them is yunzheng's default.
    local_evaluations_required = models.BooleanField(
        _("local licence needs the security evaluations"), default=True
    )

    class Meta:
        verbose_name = _("city quota")
        verbose_name_plural = _("city quotas")
        ordering = ["city_code"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(accepting=True) | ~models.Q(notice_number=""),
                name="licensing_closed_city_has_notice",
            )
        ]

    def __str__(self) -> str:
        return f"{self.city_code} ({'open' if self.accepting else 'closed'})"


class LicenceApplication(models.Model):
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="licence_applications")
    path = models.CharField(_("path"), max_length=16, choices=LicencePath.choices)
    city_code = models.CharField(_("city (GB/T 2260)"), max_length=6, db_index=True)
    province_code = models.CharField(_("province (GB/T 2260)"), max_length=6, db_index=True)
    step = models.CharField(_("current step"), max_length=32, choices=Step.choices, db_index=True)
    created_at = models.DateTimeField(_("created at"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("created by")
    )
    updated_at = models.DateTimeField(_("updated at"))
    # Facts recorded along the way (each also in the stage history and the audit log).
    letter_number = models.CharField(_("work contact letter number"), max_length=100, blank=True)
    letter_date = models.DateField(_("work contact letter date"), null=True, blank=True)
    ministry_reply_number = models.CharField(_("ministry reply number"), max_length=100, blank=True)
    ministry_reply_date = models.DateField(_("ministry reply date"), null=True, blank=True)
    platform_name = models.CharField(_("platform name"), max_length=100, blank=True)
    app_name = models.CharField(_("app name"), max_length=100, blank=True)
    server_location = models.CharField(_("server location"), max_length=200, blank=True)
    test_account = models.CharField(_("test account"), max_length=100, blank=True)
    vpn_account = models.CharField(_("VPN account"), max_length=100, blank=True)
    capability_decided_on = models.DateField(_("capability approved on"), null=True, blank=True)
    capability_decision_number = models.CharField(_("capability decision number"), max_length=100, blank=True)
    # Local licence (地牌): the national online-service-capability determination it builds on.
    determination = models.ForeignKey(
        "CapabilityDetermination", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    determination_number = models.CharField(_("capability determination number"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("licence application")
        verbose_name_plural = _("licence applications")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "city_code"],
                condition=~models.Q(step__in=["granted", "rejected", "withdrawn"]),
                name="licensing_one_open_application_per_city",
            ),
            models.UniqueConstraint(
                fields=["company"],
                condition=models.Q(path="national")
                & ~models.Q(step__in=["granted", "rejected", "withdrawn"]),
                name="licensing_one_open_national_application",
            ),
        ]

    def __str__(self) -> str:
        return f"licence application #{self.pk} ({self.step})"

    @property
    def is_open(self) -> bool:
        return self.step not in TERMINAL_STEPS


class Stage(models.Model):
    """One opening of one step: who must act, by when, and how it ended. Repeated steps (a new
    booking after a failed test, a review after a revision) get a new row, so history stays."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    application = models.ForeignKey(LicenceApplication, on_delete=models.CASCADE, related_name="stages")
    kind = models.CharField(_("step"), max_length=32, choices=Step.choices)
    responsible = models.CharField(_("responsible"), max_length=32, choices=Party.choices)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.OPEN)
    opened_at = models.DateTimeField(_("opened at"))
    # The day the clock starts (the event day itself does not count, see core.workdays).
    clock_start = models.DateField(_("clock starts"))
    # None: no deadline for this step. Provisional: counted on weekdays only across a year whose
    # statutory holidays are not known yet; recomputed when staff confirm that year.
    due_on = models.DateField(_("due on"), null=True, blank=True, db_index=True)
    due_provisional = models.BooleanField(_("due date provisional"), default=False)
    due_rule = models.CharField(_("deadline rule"), max_length=64, blank=True)
    extended_days = models.PositiveSmallIntegerField(_("extension (working days)"), default=0)
    extension_reason = models.TextField(_("extension reason"), blank=True)
    extended_at = models.DateTimeField(_("extended at"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("stage")
        verbose_name_plural = _("stages")
        ordering = ["opened_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["application"],
                condition=models.Q(status="open"),
                name="licensing_one_open_stage_per_application",
            ),
            models.CheckConstraint(
                condition=models.Q(extended_days=0) | ~models.Q(extension_reason=""),
                name="licensing_extension_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"stage {self.kind} of application #{self.application_id} ({self.status})"


class StageTransition(models.Model):
    """Append-only history of an application: every move, by whom, why, when."""

    application = models.ForeignKey(LicenceApplication, on_delete=models.CASCADE, related_name="transitions")
    from_step = models.CharField(_("from"), max_length=32, blank=True)
    to_step = models.CharField(_("to"), max_length=32)
    action = models.CharField(_("action"), max_length=40)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_label = models.CharField(_("actor"), max_length=200)
    reason = models.TextField(_("reason"), blank=True)
    at = models.DateTimeField(_("at"))

    class Meta:
        verbose_name = _("stage transition")
        verbose_name_plural = _("stage transitions")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.from_step} -{self.action}-> {self.to_step}"


class DepartmentReview(models.Model):
    """One of the five departments' opinion on the online service capability, in parallel."""

    class Recommendation(models.TextChoices):
        APPROVE = "approve", pgettext_lazy("review opinion", "Approve")
        REVISE = "revise", pgettext_lazy("review opinion", "Revise")
        REJECT = "reject", pgettext_lazy("review opinion", "Reject")

    stage = models.ForeignKey(Stage, on_delete=models.CASCADE, related_name="department_reviews")
    department = models.CharField(_("department"), max_length=32, choices=Party.choices)
    region_code = models.CharField(_("province (GB/T 2260)"), max_length=6, db_index=True)
    requested_at = models.DateTimeField(_("requested at"))
    due_on = models.DateField(_("due on"), null=True, blank=True)
    due_provisional = models.BooleanField(_("due date provisional"), default=False)
    recommendation = models.CharField(
        _("recommendation"), max_length=16, choices=Recommendation.choices, blank=True
    )
    comments = models.TextField(_("comments"), blank=True)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("department review")
        verbose_name_plural = _("department reviews")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["stage", "department"], name="licensing_one_review_per_department"
            ),
            models.CheckConstraint(
                condition=models.Q(recommendation="") | ~models.Q(comments=""),
                name="licensing_review_has_comments",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.department} review of stage #{self.stage_id}"


class StoredFile(models.Model):
    """A file checked by content and kept in private storage under a random name."""

    stored_name = models.CharField(max_length=200)
    original_name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(max_length=64)
    size = models.PositiveIntegerField(_("size"))
    sha256 = models.CharField(max_length=64)

    class Meta:
        abstract = True


class Material(StoredFile):
    class Kind(models.TextChoices):
        ANNEX_2 = "annex2", _("Annex 2")
        ANNEX_3 = "annex3", _("Annex 3")
        ANNEX_4 = "annex4", _("Annex 4")
        CLOUD_PROOF = "cloud_proof", _("Proof of cloud server")
        CAPABILITY = "capability", _("Online service capability materials")
        WORK_LETTER = "work_letter", _("Work contact letter")
        MINISTRY_REPLY = "ministry_reply", _("Ministry reply")

    application = models.ForeignKey(LicenceApplication, on_delete=models.CASCADE, related_name="materials")
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(_("uploaded at"))

    class Meta:
        verbose_name = _("material")
        verbose_name_plural = _("materials")
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} of application #{self.application_id}"


class TestPassedDocument(models.Model):
    """The document saying a company passed the connectivity and consistency tests; valid 6 months.

    Recorded by ministry staff from the official result (source "manual"), or later by the
    conformance app from one of its runs (source "conformance", source_ref = run id).
    """

    __test__ = False  # a model, not a pytest test class

    class Source(models.TextChoices):
        MANUAL = "manual", _("Recorded by ministry staff")
        CONFORMANCE = "conformance", _("Conformance test run")

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="test_passed_documents")
    number = models.CharField(_("document number"), max_length=64, unique=True)
    issued_on = models.DateField(_("issued on"))
    valid_until = models.DateField(_("valid until"))
    source = models.CharField(_("source"), max_length=16, choices=Source.choices)
    source_ref = models.CharField(_("source reference"), max_length=100, blank=True)
    recorded_by = models.CharField(_("recorded by"), max_length=200)
    recorded_at = models.DateTimeField(_("recorded at"))

    class Meta:
        verbose_name = _("test-passed document")
        verbose_name_plural = _("test-passed documents")
        ordering = ["-issued_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(valid_until__gt=models.F("issued_on")),
                name="licensing_testdoc_valid_after_issue",
            )
        ]

    def __str__(self) -> str:
        return self.number


class EvaluationAgency(models.Model):
    """A qualified evaluation agency of the register, with its authorisation period; evaluations
    are accepted only from agencies authorised on the report's issue date."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    authorised_from = models.DateField(_("authorised from"))
    authorised_until = models.DateField(_("authorised until"), null=True, blank=True)
    registered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    registered_at = models.DateTimeField(_("registered at"))

    class Meta:
        verbose_name = _("evaluation agency")
        verbose_name_plural = _("evaluation agencies")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def authorised_on(self, day: dt.date) -> bool:
        return self.authorised_from <= day and (self.authorised_until is None or day <= self.authorised_until)


class SecurityEvaluation(StoredFile):
    """One of the three evaluations (三项测评) with its agency, report and validity."""

    class Kind(models.TextChoices):
        LEVEL3 = "level3", _("Information security level-3 protection (等保三级)")
        NETWORK_PROTECTION = "network_protection", _("Network security protection assessment")
        APP_SECURITY = "app_security", _("App security assessment")

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="security_evaluations")
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    agency = models.CharField(_("evaluating agency"), max_length=200)
    agency_ref = models.ForeignKey(
        EvaluationAgency, on_delete=models.PROTECT, null=True, blank=True, related_name="evaluations"
    )
    report_number = models.CharField(_("report number"), max_length=100)
    # Level-3 protection is filed with the public-security department (等保备案号).
    filing_number = models.CharField(_("public-security filing number"), max_length=64, blank=True)
    issued_on = models.DateField(_("issued on"))
    # None: valid without end (assessments done once, unless the report itself states an end).
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(_("recorded at"))

    class Meta:
        verbose_name = _("security evaluation")
        verbose_name_plural = _("security evaluations")
        ordering = ["kind", "-issued_on", "-id"]
        indexes = [models.Index(fields=["valid_until"], name="licensing_eval_valid_until")]

    def __str__(self) -> str:
        return f"{self.kind} {self.report_number}"


class OperatingLicence(models.Model):
    """The registry of platform operating licences (网络预约出租汽车经营许可证). It changes only
    through the registry services (issue, change, renew, suspend, reinstate, revoke, cancel), each
    recording an `OperatingLicenceEvent`; the electronic licence follows in the same transaction."""

    class Kind(models.TextChoices):
        NATIONAL = "national", _("Ride-hailing operating licence (经营许可证)")
        LOCAL = "local", _("Local licence (地牌)")

    class Status(models.TextChoices):
        VALID = "valid", pgettext_lazy("operating licence", "Valid")
        SUSPENDED = "suspended", pgettext_lazy("operating licence", "Suspended")
        REVOKED = "revoked", pgettext_lazy("operating licence", "Revoked")
        CANCELLED = "cancelled", pgettext_lazy("operating licence", "Cancelled")

    number = models.CharField(_("licence number"), max_length=40, unique=True)
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="operating_licences")
    application = models.OneToOneField(
        LicenceApplication, on_delete=models.PROTECT, related_name="licence", null=True, blank=True
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    scope = models.CharField(_("business scope"), max_length=200)
    area = models.CharField(_("operating area"), max_length=200)
    city_code = models.CharField(_("city (GB/T 2260)"), max_length=6)
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"))
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    issued_at = models.DateTimeField(_("issued at"))
    electronic_licence_id = models.CharField(_("electronic licence number"), max_length=32, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.VALID, db_index=True
    )
    version = models.PositiveIntegerField(_("version"), default=1)
    updated_at = models.DateTimeField(_("updated at"), null=True, blank=True)

    class Meta:
        verbose_name = _("operating licence")
        verbose_name_plural = _("operating licences")
        ordering = ["-issued_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(valid_until__gt=models.F("valid_from")),
                name="licensing_licence_valid_range",
            )
        ]

    def __str__(self) -> str:
        return self.number


class OperatingLicenceEvent(models.Model):
    """Append-only history of an operating licence: one row per registry event."""

    class Kind(models.TextChoices):
        ISSUE = "issue", pgettext_lazy("operating licence", "Issued")
        CHANGE = "change", pgettext_lazy("operating licence", "Changed")
        RENEW = "renew", pgettext_lazy("operating licence", "Renewed")
        SUSPEND = "suspend", pgettext_lazy("operating licence", "Suspended")
        REINSTATE = "reinstate", pgettext_lazy("operating licence", "Reinstated")
        REVOKE = "revoke", pgettext_lazy("operating licence", "Revoked")
        CANCEL = "cancel", pgettext_lazy("operating licence", "Cancelled")

    licence = models.ForeignKey(OperatingLicence, on_delete=models.CASCADE, related_name="events")
    version = models.PositiveIntegerField(_("version"))
    kind = models.CharField(_("event"), max_length=16, choices=Kind.choices)
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16)
    changes = models.JSONField(default=dict, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    actor_label = models.CharField(max_length=128, blank=True)
    at = models.DateTimeField(_("time"))

    class Meta:
        verbose_name = _("operating licence event")
        verbose_name_plural = _("operating licence events")
        ordering = ["licence", "version", "pk"]

    def __str__(self) -> str:
        return f"{self.licence_id} v{self.version} {self.kind}"


class TestSlotMonth(models.Model):
    """The test appointments of one month: `capacity + extra_capacity` slots, opening at `opens_at`.

    `booked` is the counter the booking service increments atomically (UPDATE ... WHERE booked <
    capacity + extra_capacity); the database check constraint makes overbooking impossible even
    for a buggy writer.
    """

    __test__ = False  # a model, not a pytest test class

    month = models.DateField(_("month"), unique=True, help_text=_("The first day of the month."))
    capacity = models.PositiveIntegerField(_("slots"))
    extra_capacity = models.PositiveIntegerField(_("extra slots"), default=0)
    booked = models.PositiveIntegerField(_("booked"), default=0)
    opens_at = models.DateTimeField(_("booking opens at"))
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("test appointment month")
        verbose_name_plural = _("test appointment months")
        ordering = ["month"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(booked__lte=models.F("capacity") + models.F("extra_capacity")),
                name="licensing_slots_never_overbooked",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m}"

    @property
    def total(self) -> int:
        return self.capacity + self.extra_capacity

    @property
    def remaining(self) -> int:
        return max(0, self.total - self.booked)


class TestBooking(models.Model):
    __test__ = False  # a model, not a pytest test class

    class Status(models.TextChoices):
        BOOKED = "booked", _("Booked")
        CANCELLED = "cancelled", _("Cancelled")
        FAILED = "failed", _("Failed")
        PASSED = "passed", _("Passed")

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="test_bookings")
    slot_month = models.ForeignKey(TestSlotMonth, on_delete=models.PROTECT, related_name="bookings")
    application = models.ForeignKey(
        LicenceApplication, on_delete=models.SET_NULL, null=True, blank=True, related_name="bookings"
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.BOOKED)
    created_at = models.DateTimeField(_("booked at"))
    booked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    result_at = models.DateTimeField(_("result at"), null=True, blank=True)

    class Meta:
        verbose_name = _("test booking")
        verbose_name_plural = _("test bookings")
        ordering = ["created_at", "id"]
        constraints = [
            # One booking per company per month; a failed test keeps its row (and the slot).
            models.UniqueConstraint(
                fields=["company", "slot_month"],
                condition=~models.Q(status="cancelled"),
                name="licensing_one_booking_per_company_month",
            )
        ]

    def __str__(self) -> str:
        return f"booking #{self.pk} ({self.status})"


class Notification(models.Model):
    """A line on a party's dashboard (and, for companies, usually also an SMS to the contact).

    Exactly one audience: a user, a company (all its members), or a staff office (department,
    level and region code, e.g. transport/province/330000).
    """

    recipient_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    recipient_company = models.ForeignKey(
        Company, on_delete=models.CASCADE, null=True, blank=True, related_name="licensing_notifications"
    )
    department = models.CharField(_("department"), max_length=32, blank=True)
    level = models.CharField(_("level"), max_length=16, blank=True)
    region_code = models.CharField(_("region"), max_length=6, blank=True)
    application = models.ForeignKey(
        LicenceApplication, on_delete=models.CASCADE, null=True, blank=True, related_name="notifications"
    )
    text = models.TextField(_("text"))
    link = models.CharField(_("link"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), db_index=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    # Reminders are sent once: the command keys each one (e.g. "testdoc-expiring:12:2026-05-01").
    dedupe_key = models.CharField(max_length=120, null=True, blank=True, unique=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["department", "level", "region_code"], name="licensing_notice_office")
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(recipient_user__isnull=False, recipient_company__isnull=True, department="")
                    | models.Q(recipient_user__isnull=True, recipient_company__isnull=False, department="")
                    | (
                        models.Q(recipient_user__isnull=True, recipient_company__isnull=True)
                        & ~models.Q(department="")
                    )
                ),
                name="licensing_notification_one_audience",
            )
        ]

    def __str__(self) -> str:
        return self.text[:40]


class CreditBlacklistEntry(models.Model):
    """An entry of the ministry's credit blacklist (信用黑名单): while it is active (from
    ``starts_on`` to ``ends_on`` inclusive, or open-ended, and not lifted) the company can neither
    pass the access test nor be granted a licence."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="credit_blacklist")
    reason = models.TextField(_("reason"))
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("until"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("recorded by")
    )
    recorded_at = models.DateTimeField(_("recorded at"))
    lifted_at = models.DateTimeField(_("lifted at"), null=True, blank=True)
    lift_reason = models.TextField(_("reason for lifting"), blank=True)

    class Meta:
        verbose_name = _("credit blacklist entry")
        verbose_name_plural = _("credit blacklist entries")
        ordering = ["-starts_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__isnull=True) | models.Q(ends_on__gte=models.F("starts_on")),
                name="licensing_blacklist_dates_ordered",
            ),
            models.CheckConstraint(condition=~models.Q(reason=""), name="licensing_blacklist_has_reason"),
        ]

    def __str__(self) -> str:
        return f"blacklist #{self.pk} ({self.company_id})"

    def active_on(self, day: dt.date) -> bool:
        return (
            self.lifted_at is None and self.starts_on <= day and (self.ends_on is None or day <= self.ends_on)
        )


class ComplianceFlag(models.Model):
    """A compliance problem of a licensed company that the city transport authority and the police
    must see (not only a reminder to the company): today, a level-3 protection evaluation that
    lapsed after the licence was granted. Raised by the reminders task; cleared when the company
    files a new valid evaluation."""

    class Kind(models.TextChoices):
        LEVEL3_LAPSED = "level3_lapsed", _("Level-3 protection evaluation lapsed")

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="compliance_flags")
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    detail = models.TextField(_("detail"))
    lapsed_evaluation = models.ForeignKey(
        SecurityEvaluation, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    raised_at = models.DateTimeField(_("raised at"))
    cleared_at = models.DateTimeField(_("cleared at"), null=True, blank=True)
    cleared_by_evaluation = models.ForeignKey(
        SecurityEvaluation, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("compliance flag")
        verbose_name_plural = _("compliance flags")
        ordering = ["-raised_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "kind"],
                condition=models.Q(cleared_at__isnull=True),
                name="licensing_one_open_flag_per_kind",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} of company {self.company_id}"


class CapabilityDetermination(models.Model):
    """The online-service-capability determination (线上服务能力认定结果) the province issues when it
    approves: a document with number, date and validity (PDF on request, and an electronic licence),
    which a local licence application (地牌) in another city refers to instead of repeating the
    national steps. The validity is not set by the documents: LICENSING_DETERMINATION_VALID_YEARS
    (yunzheng default)."""

    number = models.CharField(_("determination number"), max_length=100, unique=True)
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="capability_determinations")
    application = models.OneToOneField(
        LicenceApplication, on_delete=models.PROTECT, related_name="capability_determination"
    )
    province_code = models.CharField(_("province (GB/T 2260)"), max_length=6)
    decided_on = models.DateField(_("decided on"))
    valid_until = models.DateField(_("valid until"))
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    issued_at = models.DateTimeField(_("issued at"))
    electronic_licence_id = models.CharField(_("electronic licence number"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("capability determination")
        verbose_name_plural = _("capability determinations")
        ordering = ["-decided_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(valid_until__gt=models.F("decided_on")),
                name="licensing_determination_valid_range",
            )
        ]

    def __str__(self) -> str:
        return self.number
