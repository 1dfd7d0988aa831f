"""Tables of the supervision analytics (see docs/adr/0050-supervision-compliance.md).

Three groups:

* **Licence history** - ``LicencePeriod`` (what registries and imports say: one validity period of
  a driver's ride-hailing qualification certificate or a vehicle's transport certificate, with its
  status and when that status took effect) and ``LicenceInterval`` (derived: the state of each
  identifier over time as non-overlapping intervals, rebuilt whenever its periods change). The
  compliance query joins orders to intervals; it never reads "today's" status.
* **Facts** - ``OrderFact`` (one narrow row per completed order, extracted from the exchange's
  ``operatePay`` records), ``ComplianceDaily`` (orders per company, city, day and the driver's and
  vehicle's licence state at the order time) and ``ActivityDaily`` (cancellations by party,
  complaints). Everything shown on the dashboard and in the bulletin is summed from these.
* **Reference data of this app** - ``PlatformProfile`` (display name, aggregator flag) and
  ``CompanyCityLicence`` (cities where a company holds an operating licence).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from yunzheng.accounts.models import Company


class LicenceKind(models.TextChoices):
    DRIVER = "driver", _("Driver (ride-hailing qualification certificate)")
    VEHICLE = "vehicle", _("Vehicle (ride-hailing transport certificate)")


class LicenceSource(models.TextChoices):
    CSV = "csv", _("Registry import (CSV)")
    PRACTITIONERS = "practitioners", _("Qualification certificate registry")
    ELICENSE = "elicense", _("Vehicle transport certificate registry")
    BASEINFO = "baseinfo", _("Company base data (self-declared)")


class PeriodStatus(models.TextChoices):
    VALID = "valid", pgettext_lazy("licence status", "Valid")
    SUSPENDED = "suspended", pgettext_lazy("licence status", "Suspended")
    CANCELLED = "cancelled", pgettext_lazy("licence status", "Cancelled")
    REVOKED = "revoked", pgettext_lazy("licence status", "Revoked")


class LicenceState(models.TextChoices):
    """The state of a driver's or vehicle's licence at one moment; also the non-compliance reason."""

    VALID = "valid", pgettext_lazy("licence state", "Licensed")
    UNLICENSED = "unlicensed", pgettext_lazy("licence state", "Unlicensed")
    EXPIRED = "expired", pgettext_lazy("licence state", "Expired")
    SUSPENDED = "suspended", pgettext_lazy("licence state", "Suspended")
    CANCELLED = "cancelled", pgettext_lazy("licence state", "Cancelled")
    REVOKED = "revoked", pgettext_lazy("licence state", "Revoked")


class LicencePeriod(models.Model):
    """One validity period of one certificate, as a registry or an import states it.

    In force from ``valid_from`` (00:00 Beijing time) through ``valid_until`` (inclusive, to the end
    of that day), unless ``status`` is suspended/cancelled/revoked: then only until
    ``status_changed_at``. A renewal or a reinstatement is a new period (another ``valid_from``),
    so history is kept; re-importing the same period updates it (e.g. a later cancellation).
    """

    kind = models.CharField(_("kind"), max_length=16, choices=LicenceKind.choices)
    # The key the exchange stores: a driver's driving-licence number (= resident ID number) as its
    # keyed lookup_hash (64 hex digits, never in clear, like exchange's license_id and
    # practitioners' holder_id_hash); a vehicle's plate as normalised text (like VehicleNo).
    identifier = models.CharField(_("driving licence number (keyed hash) or plate"), max_length=64)
    # What pages may show: the masked licence number, or the plate.
    identifier_display = models.CharField(_("driver or vehicle"), max_length=32, blank=True)
    certificate_no = models.CharField(_("certificate number"), max_length=64, blank=True)
    region_code = models.CharField(_("issuing region (GB/T 2260)"), max_length=6, blank=True)
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"))
    status = models.CharField(_("status"), max_length=16, choices=PeriodStatus.choices)
    status_changed_at = models.DateTimeField(_("status changed at"), null=True, blank=True)
    source = models.CharField(_("source"), max_length=16, choices=LicenceSource.choices)
    source_ref = models.CharField(_("source reference"), max_length=128)
    created_at = models.DateTimeField(_("created at"))
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        verbose_name = _("licence period")
        verbose_name_plural = _("licence periods")
        constraints = [
            models.UniqueConstraint(
                fields=["source", "kind", "source_ref", "valid_from"], name="supervision_period_key"
            ),
            models.CheckConstraint(
                condition=models.Q(valid_until__gte=models.F("valid_from")),
                name="supervision_period_ordered",
            ),
            models.CheckConstraint(
                condition=models.Q(status="valid") | models.Q(status_changed_at__isnull=False),
                name="supervision_period_status_time",
            ),
        ]
        indexes = [
            models.Index(fields=["kind", "identifier", "valid_from"], name="supervision_period_ident"),
            models.Index(fields=["kind", "region_code"], name="supervision_period_region"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.identifier} {self.valid_from}..{self.valid_until} ({self.status})"


class LicenceInterval(models.Model):
    """Derived from ``LicencePeriod``: identifier X was in ``state`` during [starts_at, ends_at).

    Non-overlapping per (kind, identifier); before the first interval an identifier is unlicensed
    (no row). The last interval ends at a far-future sentinel, so the compliance join is a plain
    range predicate. Rebuilt by ``services`` whenever the identifier's periods change.
    """

    kind = models.CharField(max_length=16, choices=LicenceKind.choices)
    identifier = models.CharField(max_length=64)
    state = models.CharField(max_length=16, choices=LicenceState.choices)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["kind", "identifier", "starts_at"], name="supervision_interval_ident")
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.identifier} {self.state} [{self.starts_at}, {self.ends_at})"


class PlatformProfile(models.Model):
    """How the bulletin names a platform company, and whether it is an aggregator (聚合平台)."""

    company = models.OneToOneField(Company, on_delete=models.CASCADE, related_name="+")
    display_name = models.CharField(_("platform name"), max_length=100, blank=True)
    is_aggregator = models.BooleanField(_("aggregator platform"), default=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("platform profile")
        verbose_name_plural = _("platform profiles")

    def __str__(self) -> str:
        return self.display_name or str(self.company_id)


class CompanyCityLicence(models.Model):
    """A city where a company may operate (its operating licence there), for "licensed but silent"."""

    class Source(models.TextChoices):
        ADMIN = "admin", _("Entered by staff")
        CSV = "csv", _("Registry import (CSV)")
        LICENSING = "licensing", _("Licensing workflow")

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    city_code = models.CharField(_("city (GB/T 2260)"), max_length=6)
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    source = models.CharField(_("source"), max_length=16, choices=Source.choices, default=Source.ADMIN)
    source_ref = models.CharField(_("source reference"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("company operating city")
        verbose_name_plural = _("company operating cities")
        constraints = [
            models.UniqueConstraint(
                fields=["company", "city_code", "source", "source_ref"], name="supervision_citylicence_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.company_id} @ {self.city_code}"


class OrderFact(models.Model):
    """One completed order (its ``operatePay`` record), narrow enough to scan millions a second.

    ``day`` is the Beijing date of completion (the pay record's event time), which decides the day
    and month an order counts in. ``served_at`` is the departure time (DepTime) at which the
    driver's and vehicle's licences are judged. ``flags`` marks implausible records (see
    ``sql.FLAG_*``).
    """

    company = models.ForeignKey(Company, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    order_id = models.CharField(max_length=64)
    region_code = models.IntegerField()
    city_code = models.IntegerField()
    day = models.DateField()
    served_at = models.DateTimeField()
    completed_at = models.DateTimeField()
    license_id = models.CharField(max_length=64)  # lookup_hash of LicenseId, as the exchange stores it
    vehicle_no = models.CharField(max_length=32)
    # The licence states at served_at, from LicenceInterval: set when the fact is extracted and
    # updated whenever the licence history of its driver or vehicle changes.
    driver_state = models.CharField(max_length=16, choices=LicenceState.choices)
    vehicle_state = models.CharField(max_length=16, choices=LicenceState.choices)
    dep_lon = models.IntegerField(null=True)
    dep_lat = models.IntegerField(null=True)
    flags = models.SmallIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["company", "order_id"], name="supervision_fact_order")]
        indexes = [
            # Covers the monthly roll-up: an index-only scan in GROUP BY order (no hashing).
            models.Index(
                fields=["day", "city_code", "company", "driver_state", "vehicle_state"],
                name="supervision_fact_rollup",
            ),
            models.Index(fields=["company", "day"], name="supervision_fact_company_day"),
            models.Index(fields=["license_id"], name="supervision_fact_driver"),
            models.Index(fields=["vehicle_no"], name="supervision_fact_vehicle"),
        ]

    def __str__(self) -> str:
        return f"{self.company_id}/{self.order_id} {self.day}"


class ComplianceDaily(models.Model):
    """Completed orders of one company in one city on one day, by the licence states at order time."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    city_code = models.IntegerField()
    day = models.DateField()
    driver_state = models.CharField(max_length=16, choices=LicenceState.choices)
    vehicle_state = models.CharField(max_length=16, choices=LicenceState.choices)
    orders = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["company", "city_code", "day", "driver_state", "vehicle_state"],
                name="supervision_compliance_key",
            )
        ]
        indexes = [models.Index(fields=["day", "city_code"], name="supervision_compliance_day")]

    def __str__(self) -> str:
        return f"{self.company_id} {self.city_code} {self.day} {self.driver_state}/{self.vehicle_state}"


class ActivityDaily(models.Model):
    """Daily counts other than completed orders: cancellations by party, passenger complaints."""

    class Metric(models.TextChoices):
        CANCEL_PASSENGER = "cancel_passenger", _("Cancelled by the passenger")
        CANCEL_DRIVER = "cancel_driver", _("Cancelled by the driver")
        CANCEL_PLATFORM = "cancel_platform", _("Cancelled by the platform")
        CANCEL_OTHER = "cancel_other", _("Cancelled (other)")
        COMPLAINT = "complaint", _("Passenger complaints")

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    city_code = models.IntegerField()
    day = models.DateField()
    metric = models.CharField(max_length=24, choices=Metric.choices)
    count = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["company", "city_code", "day", "metric"], name="supervision_activity_key"
            )
        ]
        indexes = [models.Index(fields=["day", "city_code"], name="supervision_activity_day")]

    def __str__(self) -> str:
        return f"{self.company_id} {self.city_code} {self.day} {self.metric}={self.count}"


class ComplianceRun(models.Model):
    """One run of ``compliance_compute``: which month and region, when, how long, how many orders."""

    month = models.DateField(_("month"))
    region_prefix = models.CharField(_("region prefix"), max_length=6, blank=True)
    refreshed_facts = models.BooleanField(default=True)
    orders = models.PositiveBigIntegerField(default=0)
    facts_ms = models.PositiveIntegerField(default=0)
    compute_ms = models.PositiveIntegerField(default=0)
    finished_at = models.DateTimeField()
    actor_label = models.CharField(max_length=100, blank=True)

    class Meta:
        verbose_name = _("compliance computation")
        verbose_name_plural = _("compliance computations")
        indexes = [models.Index(fields=["month", "finished_at"], name="supervision_run_month")]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.region_prefix or '*'} @ {self.finished_at}"
