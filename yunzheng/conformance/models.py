"""Test campaigns, their cycles, and the sandbox storage that the cycles grade.

* ``Campaign`` - a series of test cycles of one company: ``self_service`` (the company tests itself
  in its sandbox, any time) or ``official`` (a regulator runs the ministry's test, usually for the
  company's licensing appointment; a pass issues the test-passed document). It records the spec
  version it ran against and a snapshot of the grading thresholds, so that its results stay
  reproducible when settings change later.
* ``Cycle`` - one round of one test (``connectivity`` or ``consistency``): opened, the company
  uploads through its sandbox credential, closed and graded. The graded report is kept as a JSON
  snapshot forever. At most one cycle per company is open (the database enforces it): sandbox
  uploads are routed to it.
* ``SandboxBatch`` / ``SandboxRecord`` - what sandbox credentials uploaded, accepted or rejected,
  with every field error. Never counted as supervision data: these rows live here, not in the
  exchange tables, and never touch the exchange statistics or forwarding.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from yunzheng.accounts.models import Company, CompanyCredential


class Campaign(models.Model):
    class Kind(models.TextChoices):
        SELF_SERVICE = "self_service", _("Self-service")
        OFFICIAL = "official", _("Official")

    class Status(models.TextChoices):
        OPEN = "open", _("In progress")
        PASSED = "passed", pgettext_lazy("test result", "Passed")
        FAILED = "failed", pgettext_lazy("test result", "Failed")
        CLOSED = "closed", _("Closed without result")

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.OPEN)
    spec_version = models.CharField(_("spec version"), max_length=32)
    required_passes = models.PositiveSmallIntegerField(_("passing cycles required per test"), default=1)
    max_cycles = models.PositiveSmallIntegerField(_("most cycles"), null=True, blank=True)
    # A replay of recorded traffic: upload lag is reported, not graded (self-service only).
    replay = models.BooleanField(_("replay of recorded traffic"), default=False)
    thresholds = models.JSONField(_("grading thresholds"), default=dict)
    # The licensing appointment (licensing.TestBooking id) this official run belongs to; an id, not a
    # foreign key, so that the two apps' migrations stay independent.
    booking_ref = models.PositiveBigIntegerField(_("test appointment"), null=True, blank=True)
    reference = models.CharField(_("reference"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"))
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    certificate_number = models.CharField(_("test-passed document"), max_length=64, blank=True)
    certificate_valid_until = models.DateField(_("valid until"), null=True, blank=True)
    # Why an official campaign failed (cycles used up, or ended by the regulator), shown on its page.
    outcome_reason = models.TextField(_("reason"), blank=True)

    class Meta:
        verbose_name = _("test campaign")
        verbose_name_plural = _("test campaigns")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["company", "kind", "status"], name="conformance_campaign_company")]

    def __str__(self) -> str:
        return f"campaign #{self.pk} ({self.kind}, {self.status})"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN


class Cycle(models.Model):
    class Kind(models.TextChoices):
        CONNECTIVITY = "connectivity", _("Connectivity test")
        CONSISTENCY = "consistency", _("Consistency test")

    class Status(models.TextChoices):
        OPEN = "open", _("Open for uploads")
        PASSED = "passed", pgettext_lazy("test result", "Passed")
        FAILED = "failed", pgettext_lazy("test result", "Failed")
        ABORTED = "aborted", _("Aborted")

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="cycles")
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    number = models.PositiveSmallIntegerField(_("cycle"))
    kind = models.CharField(_("test"), max_length=16, choices=Kind.choices)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.OPEN)
    opened_at = models.DateTimeField(_("opened at"))
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    opened_by = models.CharField(_("opened by"), max_length=200, blank=True)
    closed_by = models.CharField(_("closed by"), max_length=200, blank=True)
    report = models.JSONField(_("report"), null=True, blank=True)

    class Meta:
        verbose_name = _("test cycle")
        verbose_name_plural = _("test cycles")
        ordering = ["campaign", "number"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "number"], name="conformance_cycle_number"),
            # Sandbox uploads go to the company's one open cycle.
            models.UniqueConstraint(
                fields=["company"], condition=models.Q(status="open"), name="conformance_one_open_cycle"
            ),
        ]

    def __str__(self) -> str:
        return f"cycle {self.number} of campaign #{self.campaign_id} ({self.kind}, {self.status})"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN


class SandboxBatch(models.Model):
    """One upload request of a sandbox credential (the sandbox's IngestBatch)."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    credential = models.ForeignKey(
        CompanyCredential, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    cycle = models.ForeignKey(Cycle, on_delete=models.CASCADE, null=True, blank=True, related_name="batches")
    interface = models.PositiveIntegerField(_("interface (IPCType code)"))
    wire_format = models.CharField(_("wire format"), max_length=16)
    received = models.PositiveIntegerField(_("received"), default=0)
    accepted = models.PositiveIntegerField(_("accepted"), default=0)
    duplicates = models.PositiveIntegerField(_("duplicates"), default=0)
    rejected = models.PositiveIntegerField(_("rejected"), default=0)
    received_at = models.DateTimeField(_("received at"))
    request_id = models.CharField(_("request id"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("sandbox upload")
        verbose_name_plural = _("sandbox uploads")
        indexes = [models.Index(fields=["company", "received_at"], name="conformance_batch_company")]

    def __str__(self) -> str:
        return f"sandbox batch {self.pk} ({self.interface:#06x}, {self.received} records)"


class SandboxRecord(models.Model):
    """One uploaded record of a sandbox batch, accepted (normalised) or rejected (as sent, with
    every field error). Typed columns carry what grading joins on, so that a cycle of 100,000
    orders is graded from a few sequential reads."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+", db_constraint=False)
    cycle = models.ForeignKey(Cycle, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    batch = models.ForeignKey(SandboxBatch, on_delete=models.CASCADE, related_name="+", db_constraint=False)
    interface = models.PositiveIntegerField()
    position = models.PositiveIntegerField()  # index of the record in its request
    accepted = models.BooleanField()
    # Natural key plus version (UpdateTime / event time), as the production store keys it:
    # a re-sent accepted record is a duplicate and stored once per cycle.
    natural_key = models.TextField(blank=True, default="")
    event_epoch = models.BigIntegerField(null=True, blank=True)  # unix seconds of the event time
    order_id = models.CharField(max_length=64, blank=True, default="")
    license_id = models.CharField(max_length=64, blank=True, default="")
    vehicle_no = models.CharField(max_length=64, blank=True, default="")
    longitude = models.BigIntegerField(null=True, blank=True)
    latitude = models.BigIntegerField(null=True, blank=True)
    record = models.JSONField()
    errors = models.JSONField(null=True, blank=True)  # [{field, code, message, value}]

    class Meta:
        verbose_name = _("sandbox record")
        verbose_name_plural = _("sandbox records")
        constraints = [
            models.UniqueConstraint(
                fields=["cycle", "interface", "natural_key"],
                condition=models.Q(accepted=True, cycle__isnull=False),
                name="conformance_record_once_per_cycle",
            )
        ]
        indexes = [
            models.Index(fields=["cycle", "interface", "accepted"], name="conformance_record_cycle"),
        ]

    def __str__(self) -> str:
        return f"sandbox record {self.pk} ({self.interface:#06x})"
