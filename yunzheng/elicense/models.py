"""Electronic licences and passes: signing keys, licences with their history and the ministry-level
index, verification attempts, share codes, and the two registries this app owns (vehicle transport
certificates, traffic passes). Writes go through `services.py`; no logic in save() or signals.
"""

from __future__ import annotations

from typing import Any, NoReturn

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from yunzheng.core.crypto import mask_name
from yunzheng.core.fields import EncryptedCharField


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> NoReturn:
        raise TypeError("This history is append-only.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise TypeError("This history is append-only.")


class LicenceType(models.TextChoices):
    PRACTITIONER_QUALIFICATION = (
        "practitioner_qualification",
        pgettext_lazy("elicense", "Practitioner qualification certificate"),
    )
    CREDIT_VOUCHER = "credit_voucher", pgettext_lazy("elicense", "Credit assessment voucher")
    RIDEHAIL_OPERATING_LICENCE = (
        "ridehail_operating_licence",
        pgettext_lazy("elicense", "Ride-hailing operating licence"),
    )
    VEHICLE_TRANSPORT_CERTIFICATE = (
        "vehicle_transport_certificate",
        pgettext_lazy("elicense", "Vehicle transport certificate"),
    )
    TRAFFIC_PASS = "traffic_pass", pgettext_lazy("elicense", "Electronic traffic pass")
    RIDEHAIL_CAPABILITY_DETERMINATION = (
        "ridehail_capability_determination",
        pgettext_lazy("elicense", "Ride-hailing online service capability determination"),
    )


class LicenceStatus(models.TextChoices):
    VALID = "valid", pgettext_lazy("elicense", "Valid")
    SUSPENDED = "suspended", pgettext_lazy("elicense", "Suspended")
    REVOKED = "revoked", pgettext_lazy("elicense", "Revoked")
    EXPIRED = "expired", pgettext_lazy("elicense", "Expired")


# --------------------------------------------------------------------------------------------
# Signing keys
# --------------------------------------------------------------------------------------------


class SigningKey(models.Model):
    """An SM2 key of an issuing province (purpose "licence") or of the ministry (purpose
    "trust_list", province 000000), which signs the published trust list.

    Signing period [valid_from, valid_until): rotation ends it early. Verification of what the key
    signed continues until `verify_until`; after that (or once compromised) it is refused.
    """

    class Purpose(models.TextChoices):
        LICENCE = "licence", pgettext_lazy("elicense", "Licence signing")
        TRUST_LIST = "trust_list", pgettext_lazy("elicense", "Trust list signing (ministry root)")

    class Status(models.TextChoices):
        ACTIVE = "active", pgettext_lazy("elicense", "Active")
        RETIRED = "retired", pgettext_lazy("elicense", "Retired")
        COMPROMISED = "compromised", pgettext_lazy("elicense", "Compromised")

    # "<province>-<first 8 hex digits of SM3(public key)>" (short: it is in every QR code). Unique
    # by constraint (a clashing new key is simply regenerated) and the province prefix keeps
    # provinces apart; the full fingerprint below is unique too.
    kid = models.CharField(_("key id"), max_length=80, unique=True)
    province = models.CharField(_("province (GB/T 2260)"), max_length=6, db_index=True)
    purpose = models.CharField(_("purpose"), max_length=16, choices=Purpose.choices, default=Purpose.LICENCE)
    public_key_hex = models.CharField(_("public key"), max_length=128)
    # Full SM3 of the public key: the same key can never be registered twice under two ids.
    fingerprint = models.CharField(max_length=64, unique=True)
    private_key = EncryptedCharField(_("private key"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE)
    valid_from = models.DateTimeField(_("signs from"))
    valid_until = models.DateTimeField(_("signs until"))
    verify_until = models.DateTimeField(_("verifiable until"))
    created_at = models.DateTimeField(_("created at"))
    retired_at = models.DateTimeField(_("retired at"), null=True, blank=True)
    compromised_at = models.DateTimeField(_("marked compromised at"), null=True, blank=True)

    class Meta:
        verbose_name = _("signing key")
        verbose_name_plural = _("signing keys")
        ordering = ["province", "-valid_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["province", "purpose"],
                condition=models.Q(status="active"),
                name="elicense_one_active_key_per_province",
            ),
            models.CheckConstraint(
                condition=models.Q(valid_from__lte=models.F("valid_until"))
                & models.Q(valid_until__lte=models.F("verify_until")),
                name="elicense_key_periods_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kid} ({self.status})"


# --------------------------------------------------------------------------------------------
# Licences
# --------------------------------------------------------------------------------------------


class LicenceNumberSequence(models.Model):
    """Last number used per prefix ("33-TP-2026"), incremented under a row lock."""

    prefix = models.CharField(max_length=32, unique=True)
    last_value = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.prefix}: {self.last_value}"


class ElectronicLicence(models.Model):
    """The electronic form of one registry record (source_type, source_id). Same legal effect as
    the paper licence; updated by `services.licence_sync` in the registry's own transaction."""

    class HolderKind(models.TextChoices):
        PERSON = "person", pgettext_lazy("elicense", "Person")
        COMPANY = "company", pgettext_lazy("elicense", "Company")

    # Unique (Meta.constraints): a constraint rather than unique=True, which adds a LIKE index.
    lid = models.CharField(pgettext_lazy("elicense", "licence number"), max_length=32)
    licence_type = models.CharField(_("type"), max_length=40, choices=LicenceType.choices)
    holder_kind = models.CharField(_("holder kind"), max_length=16, choices=HolderKind.choices)
    holder_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="electronic_licences",
        verbose_name=_("holder (user)"),
        db_index=False,  # partial index in Meta
    )
    holder_company = models.ForeignKey(
        "accounts.Company",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="electronic_licences",
        verbose_name=_("holder (company)"),
        db_index=False,  # partial index in Meta
    )
    holder_name = EncryptedCharField(_("holder"))
    # Resident ID number (persons) or unified social credit code (companies).
    holder_id_number = EncryptedCharField(_("holder ID number"), null=True, blank=True)
    holder_id_hash = models.CharField(max_length=64, blank=True, default="")
    issuer_region = models.CharField(_("issuing region"), max_length=6)
    issuer_province = models.CharField(_("issuing province"), max_length=6)
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"))
    status = models.CharField(_("status"), max_length=16, choices=LicenceStatus.choices)
    version = models.PositiveIntegerField(_("version"), default=1)
    source_type = models.CharField(_("registry"), max_length=64)
    source_id = models.CharField(_("registry record"), max_length=64)
    # The registry record's own update time as of the last sync, and when that sync happened
    # (the timeliness check compares them with the registry).
    source_updated_at = models.DateTimeField()
    synced_at = models.DateTimeField()
    data = models.JSONField(_("details"), default=dict, blank=True)
    # SM3 over the canonical content, written only by licence_sync and the status services: a row
    # changed behind their back no longer matches (the authenticity check).
    content_hash = models.CharField(max_length=64)
    status_reason = models.TextField(_("reason"), blank=True)
    issued_at = models.DateTimeField(pgettext_lazy("elicense", "issued at"))
    updated_at = models.DateTimeField(_("updated at"))
    # First time the holder viewed or downloaded it (the activation rate).
    activated_at = models.DateTimeField(_("activated at"), null=True, blank=True)

    class Meta:
        verbose_name = _("electronic licence")
        verbose_name_plural = _("electronic licences")
        ordering = ["-updated_at"]
        # Plain b-tree indexes here rather than db_index=True, which on PostgreSQL adds a second,
        # varchar_pattern_ops index (LIKE 'x%') no query needs; holders' indexes are partial
        # (most registry licences have no account yet, and no person licence has a company).
        # Every index is written on each row of the bulk registry imports.
        indexes = [
            models.Index(fields=["licence_type"], name="elicense_licence_type"),
            models.Index(fields=["holder_id_hash"], name="elicense_licence_id_hash"),
            models.Index(fields=["issuer_province"], name="elicense_licence_province"),
            models.Index(fields=["status"], name="elicense_licence_status"),
            models.Index(
                fields=["holder_user"],
                condition=models.Q(holder_user__isnull=False),
                name="elicense_licence_holder_user",
            ),
            models.Index(
                fields=["holder_company"],
                condition=models.Q(holder_company__isnull=False),
                name="elicense_licence_company",
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["lid"], name="elicense_licence_lid"),
            models.UniqueConstraint(
                fields=["source_type", "source_id"], name="elicense_one_licence_per_record"
            ),
            models.CheckConstraint(
                condition=models.Q(valid_from__lte=models.F("valid_until")), name="elicense_validity_ordered"
            ),
            models.CheckConstraint(condition=models.Q(version__gte=1), name="elicense_version_positive"),
        ]

    def __str__(self) -> str:
        return self.lid

    @property
    def holder_display(self) -> str:
        """What pages and QR codes show: a company name in full, a person's name masked."""
        if self.holder_kind == self.HolderKind.COMPANY:
            return self.holder_name
        return mask_name(self.holder_name)


class LicenceEvent(models.Model):
    """Append-only history of a licence: one row per version (and per status change)."""

    class Kind(models.TextChoices):
        ISSUE = "issue", pgettext_lazy("elicense", "Issued")
        CHANGE = "change", pgettext_lazy("elicense", "Changed")
        CANCEL = "cancel", pgettext_lazy("elicense", "Cancelled")
        ANNUAL_INSPECTION = "annual_inspection", pgettext_lazy("elicense", "Annual inspection")
        CREDIT_EVALUATION = "credit_evaluation", pgettext_lazy("elicense", "Credit evaluation")
        SUSPEND = "suspend", pgettext_lazy("elicense", "Suspended")
        REINSTATE = "reinstate", pgettext_lazy("elicense", "Reinstated")
        REVOKE = "revoke", pgettext_lazy("elicense", "Revoked")
        EXPIRE = "expire", pgettext_lazy("elicense", "Expired")

    licence = models.ForeignKey(
        ElectronicLicence,
        on_delete=models.CASCADE,
        related_name="events",
        db_index=False,  # elicense_one_event_per_version (licence, version) serves it
    )
    version = models.PositiveIntegerField(_("version"))
    kind = models.CharField(_("event"), max_length=32, choices=Kind.choices)
    from_status = models.CharField(
        pgettext_lazy("elicense", "from"), max_length=16, blank=True, choices=LicenceStatus.choices
    )
    to_status = models.CharField(
        pgettext_lazy("elicense", "to"), max_length=16, choices=LicenceStatus.choices
    )
    changed_fields = models.JSONField(default=list, blank=True)
    actor_kind = models.CharField(max_length=16)
    actor_id = models.CharField(max_length=64, blank=True)
    actor_label = models.CharField(_("by"), max_length=128, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    at = models.DateTimeField(_("time"))

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("licence event")
        verbose_name_plural = _("licence events")
        ordering = ["licence", "version", "at"]
        constraints = [
            models.UniqueConstraint(fields=["licence", "version"], name="elicense_one_event_per_version")
        ]

    def __str__(self) -> str:
        return f"{self.licence_id} v{self.version} {self.kind}"


class MinistryIndexEntry(models.Model):
    """The ministry-level index of every electronic licence (no personal data beyond a keyed hash
    of the holder's ID number): written in the same transaction as the licence, queryable by any
    province for cross-region recognition."""

    licence = models.OneToOneField(ElectronicLicence, on_delete=models.CASCADE, related_name="index_entry")
    lid = models.CharField(max_length=32)  # unique: Meta.constraints
    licence_type = models.CharField(max_length=40, choices=LicenceType.choices)
    issuer_province = models.CharField(max_length=6)
    issuer_region = models.CharField(max_length=6)
    status = models.CharField(max_length=16, choices=LicenceStatus.choices)
    version = models.PositiveIntegerField()
    valid_from = models.DateField()
    valid_until = models.DateField()
    holder_id_hash = models.CharField(max_length=64, blank=True)
    content_hash = models.CharField(max_length=64)
    updated_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = _("ministry index entry")
        verbose_name_plural = _("ministry index")
        ordering = ["-updated_at"]
        constraints = [models.UniqueConstraint(fields=["lid"], name="elicense_index_lid")]
        # Plain b-tree indexes (see ElectronicLicence.Meta).
        indexes = [
            models.Index(fields=["issuer_province"], name="elicense_index_province"),
            models.Index(fields=["holder_id_hash"], name="elicense_index_id_hash"),
        ]

    def __str__(self) -> str:
        return f"{self.lid} v{self.version} {self.status}"


# --------------------------------------------------------------------------------------------
# Verification, consent
# --------------------------------------------------------------------------------------------


class VerificationAttempt(models.Model):
    """Every verification and share-code attempt. Doubles as the per-IP rate-limit ledger. No raw
    personal data: the client IP is kept as a keyed hash only."""

    class Channel(models.TextChoices):
        API = "api", pgettext_lazy("elicense", "API")
        PAGE = "page", pgettext_lazy("elicense", "Web page")
        SHARE = "share", pgettext_lazy("elicense", "Share code")

    at = models.DateTimeField(_("time"), db_index=True)
    ip_hash = models.CharField(max_length=64)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    result = models.CharField(_("result"), max_length=16)
    reason_code = models.CharField(max_length=64, blank=True)
    lid = models.CharField(max_length=32, blank=True, db_index=True)
    kid = models.CharField(max_length=80, blank=True)
    counted = models.BooleanField(default=True)  # False for attempts refused by the rate limit

    class Meta:
        verbose_name = _("verification attempt")
        verbose_name_plural = _("verification attempts")
        indexes = [models.Index(fields=["ip_hash", "at"], name="elicense_attempt_ip_time")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.channel} {self.result}"


class ShareCode(models.Model):
    """A one-time code by which the holder lets a named third party see the licence in full.
    Only a keyed hash of the code is stored."""

    licence = models.ForeignKey(ElectronicLicence, on_delete=models.CASCADE, related_name="share_codes")
    code_hash = models.CharField(max_length=64, unique=True)
    recipient_name = EncryptedCharField(_("shared with"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created at"))
    expires_at = models.DateTimeField(_("expires at"))
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)
    used_by_ip_hash = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("share code")
        verbose_name_plural = _("share codes")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(expires_at__gt=models.F("created_at")), name="elicense_share_expires_later"
            )
        ]

    def __str__(self) -> str:
        return f"share #{self.pk} of licence {self.licence_id}"


# --------------------------------------------------------------------------------------------
# Consistency checks
# --------------------------------------------------------------------------------------------


class SyncCheckRun(models.Model):
    """One run of the registry/licence consistency check, with its findings."""

    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"))
    triggered_by = models.CharField(_("run by"), max_length=128, blank=True)
    counts = models.JSONField(default=dict)  # mismatches by kind
    mismatches = models.JSONField(default=list)  # the first ELICENSE_SYNC_REPORT_LIMIT findings
    provinces = models.JSONField(default=list)  # per-province rates

    class Meta:
        verbose_name = _("consistency check")
        verbose_name_plural = _("consistency checks")
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"consistency check {self.started_at:%Y-%m-%d %H:%M}"


# --------------------------------------------------------------------------------------------
# Registry: vehicle transport certificates (道路运输证) and violations
# --------------------------------------------------------------------------------------------


class PlateColour(models.TextChoices):
    YELLOW = "yellow", pgettext_lazy("elicense", "Yellow")
    BLUE = "blue", pgettext_lazy("elicense", "Blue")
    GREEN = "green", pgettext_lazy("elicense", "Green (new energy)")
    YELLOW_GREEN = "yellow_green", pgettext_lazy("elicense", "Yellow-green (new energy)")


class VehicleTransportCertificate(models.Model):
    class Status(models.TextChoices):
        VALID = "valid", pgettext_lazy("elicense", "Valid")
        SUSPENDED = "suspended", pgettext_lazy("elicense", "Suspended")
        CANCELLED = "cancelled", pgettext_lazy("elicense", "Cancelled")

    certificate_number = models.CharField(
        pgettext_lazy("elicense", "certificate number"), max_length=32, unique=True
    )
    plate_number = models.CharField(_("plate number"), max_length=10, db_index=True)
    plate_colour = models.CharField(_("plate colour"), max_length=16, choices=PlateColour.choices)
    owner_company = models.ForeignKey(
        "accounts.Company", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    owner_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    owner_name = EncryptedCharField(_("owner"))
    owner_id_number = EncryptedCharField(_("owner ID number"), null=True, blank=True)
    owner_id_hash = models.CharField(max_length=64, blank=True, db_index=True)
    business_scope = models.CharField(_("business scope"), max_length=100)
    issuing_region = models.CharField(_("issuing region"), max_length=6)
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"))
    last_inspection_on = models.DateField(_("last annual inspection"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.VALID)
    created_at = models.DateTimeField(_("created at"))
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        verbose_name = _("vehicle transport certificate")
        verbose_name_plural = _("vehicle transport certificates")
        ordering = ["plate_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["plate_number", "plate_colour"],
                condition=~models.Q(status="cancelled"),
                name="elicense_one_live_certificate_per_plate",
            )
        ]

    def __str__(self) -> str:
        return f"{self.plate_number} ({self.certificate_number})"

    @property
    def owner_display(self) -> str:
        return self.owner_name if self.owner_company_id else mask_name(self.owner_name)


class VehicleViolation(models.Model):
    # The record number in the reporting authority's system: the natural key of imports.
    reference = models.CharField(_("record number"), max_length=40, unique=True, null=True, blank=True)
    region_code = models.CharField(_("region"), max_length=6, blank=True)
    plate_number = models.CharField(_("plate number"), max_length=10, db_index=True)
    occurred_on = models.DateField(_("date"))
    description = models.CharField(_("description"), max_length=200)
    recorded_at = models.DateTimeField(_("recorded at"))
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)

    class Meta:
        verbose_name = _("traffic violation")
        verbose_name_plural = _("traffic violations")
        ordering = ["-occurred_on"]

    def __str__(self) -> str:
        return f"{self.plate_number} {self.occurred_on}"


# --------------------------------------------------------------------------------------------
# Registry: electronic traffic passes (电子通行证)
# --------------------------------------------------------------------------------------------


class PassType(models.TextChoices):
    """The four Tianjin pass types of the seed data. Pass types are data per city
    (:class:`TrafficPassType`); these codes are only Tianjin's initial rows."""

    TRUCK_DAY = "truck_day", pgettext_lazy("elicense", "Truck pass (daytime)")
    TRUCK_NIGHT = "truck_night", pgettext_lazy("elicense", "Truck pass (night)")
    HAZMAT = "hazmat", pgettext_lazy("elicense", "Dangerous goods transport pass")
    MUCK = "muck", pgettext_lazy("elicense", "Construction muck transport pass")


class VehicleTask(models.TextChoices):
    """The task the vehicle performs (the procedure's second condition)."""

    ADMINISTRATION = "administration", pgettext_lazy("vehicle task", "Administration")
    MUNICIPAL = "municipal", pgettext_lazy("vehicle task", "Municipal management")
    BUSINESS_PRODUCTION = "business_production", pgettext_lazy("vehicle task", "Business production")
    RESIDENTS_LIFE = "residents_life", pgettext_lazy("vehicle task", "Residents' life")
    FREIGHT = "freight", pgettext_lazy("vehicle task", "Freight")
    CONSTRUCTION = "construction", pgettext_lazy("vehicle task", "Construction")


class TrafficPassType(models.Model):
    """A pass type a city issues, maintained by that city's staff (the reviewing authority is the
    city's traffic police). ``max_validity_days`` and ``decision_working_days`` are per city:
    the Tianjin procedure names 7 working days; validity limits are yunzheng's defaults."""

    region_code = models.CharField(_("region"), max_length=6)
    code = models.SlugField(_("code"), max_length=32)
    name = models.CharField(_("name"), max_length=64)
    max_validity_days = models.PositiveSmallIntegerField(_("longest validity (days)"), default=90)
    decision_working_days = models.PositiveSmallIntegerField(_("decision within (working days)"), default=7)
    # What the application form proposes, e.g. "22:00-06:00" (comma-separated); "" proposes none.
    default_time_windows = models.CharField(_("proposed time windows"), max_length=100, blank=True)
    # The task the form proposes for this type (a muck pass is for construction); "" proposes none.
    default_vehicle_task = models.CharField(
        _("proposed vehicle task"), max_length=32, blank=True, choices=VehicleTask.choices
    )
    active = models.BooleanField(_("active"), default=True)
    sort_order = models.PositiveSmallIntegerField(_("display order"), default=0)
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        verbose_name = _("traffic pass type")
        verbose_name_plural = _("traffic pass types")
        ordering = ["region_code", "sort_order", "code"]
        constraints = [
            models.UniqueConstraint(fields=["region_code", "code"], name="elicense_pass_type_per_region"),
            models.CheckConstraint(
                condition=models.Q(max_validity_days__gte=1, decision_working_days__gte=1),
                name="elicense_pass_type_positive_limits",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.region_code}/{self.code}"


class TrafficPassApplication(models.Model):
    class Status(models.TextChoices):
        SUBMITTED = "submitted", pgettext_lazy("elicense", "Submitted")
        DATA_APPROVED = "data_approved", pgettext_lazy("elicense", "Data review passed")
        APPROVED = "approved", pgettext_lazy("elicense", "Approved")
        REJECTED = "rejected", pgettext_lazy("elicense", "Rejected")
        WITHDRAWN = "withdrawn", pgettext_lazy("elicense", "Withdrawn")
        SUSPENDED = "suspended", pgettext_lazy("elicense", "Suspended")
        REVOKED = "revoked", pgettext_lazy("elicense", "Revoked")

    reference = models.CharField(_("application number"), max_length=32, unique=True)
    applicant_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="traffic_pass_applications"
    )
    applicant_company = models.ForeignKey(
        "accounts.Company", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    region_code = models.CharField(_("region"), max_length=6, db_index=True)
    vehicle = models.ForeignKey(VehicleTransportCertificate, on_delete=models.PROTECT, related_name="+")
    plate_number = models.CharField(_("plate number"), max_length=10)
    # A TrafficPassType code of the region (kept as text: a type retired later stays readable).
    pass_type = models.CharField(_("pass type"), max_length=32)
    pass_type_name = models.CharField(_("pass type"), max_length=64, blank=True)
    vehicle_task = models.CharField(
        _("task of the vehicle"), max_length=32, choices=VehicleTask.choices, blank=True
    )
    no_alternative_route = models.BooleanField(
        _("declared that no other route avoids the restricted sections"), default=False
    )
    road_sections = models.JSONField(_("permitted road sections"), default=list)
    time_windows = models.JSONField(_("permitted times"), default=list)
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"))
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.SUBMITTED, db_index=True
    )
    submitted_at = models.DateTimeField(_("submitted at"))
    data_reviewed_at = models.DateTimeField(_("data review passed at"), null=True, blank=True)
    data_reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The decision is due a number of working days after the data review passed (empty before).
    due_date = models.DateField(pgettext_lazy("elicense", "decision due"), null=True, blank=True)
    # Counted across a year whose statutory holidays were not known yet (weekdays only); recomputed
    # when staff confirm that year (core.calendar_years).
    due_date_provisional = models.BooleanField(_("due date provisional"), default=False)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decision_reason = models.TextField(_("reason"), blank=True)
    suspension_reason = models.TextField(_("reason for suspension"), blank=True)
    licence = models.OneToOneField(
        ElectronicLicence, on_delete=models.PROTECT, null=True, blank=True, related_name="traffic_pass"
    )
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        verbose_name = _("traffic pass application")
        verbose_name_plural = _("traffic pass applications")
        ordering = ["due_date", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status="rejected", decision_reason=""),
                name="elicense_pass_rejection_has_reason",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="suspended", suspension_reason=""),
                name="elicense_pass_suspension_has_reason",
            ),
            models.CheckConstraint(
                condition=models.Q(valid_from__lte=models.F("valid_until")),
                name="elicense_pass_validity_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.reference


class TrafficPassMaterial(models.Model):
    """A supporting document of an application (PNG, JPEG or PDF, checked by content), stored
    encrypted in the private file store."""

    application = models.ForeignKey(
        TrafficPassApplication, on_delete=models.CASCADE, related_name="materials"
    )
    title = models.CharField(_("title"), max_length=100)
    stored_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=64)
    size = models.PositiveIntegerField(_("size"))
    sha256 = models.CharField(max_length=64)
    original_name = models.CharField(_("file name"), max_length=200, blank=True)
    uploaded_at = models.DateTimeField(_("uploaded at"))

    class Meta:
        verbose_name = _("traffic pass material")
        verbose_name_plural = _("traffic pass materials")
        ordering = ["application", "uploaded_at", "pk"]

    def __str__(self) -> str:
        return f"{self.application_id}: {self.title}"


class TrafficPassTransition(models.Model):
    """Every status change of an application: from, to, who, why, when."""

    application = models.ForeignKey(
        TrafficPassApplication, on_delete=models.CASCADE, related_name="transitions"
    )
    from_status = models.CharField(
        pgettext_lazy("elicense", "from"),
        max_length=16,
        blank=True,
        choices=TrafficPassApplication.Status.choices,
    )
    to_status = models.CharField(
        pgettext_lazy("elicense", "to"), max_length=16, choices=TrafficPassApplication.Status.choices
    )
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_label = models.CharField(_("by"), max_length=128, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    at = models.DateTimeField(_("time"))

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("traffic pass transition")
        verbose_name_plural = _("traffic pass transitions")
        ordering = ["application", "at", "pk"]

    def __str__(self) -> str:
        return f"{self.application_id}: {self.from_status} -> {self.to_status}"
