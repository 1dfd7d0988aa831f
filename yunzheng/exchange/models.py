"""Storage of the supervision data exchange.

Four kinds of rows (see docs/adr/0004-exchange-ingest-storage.md):

* ``IngestBatch`` - one per accepted request: who sent what, when, with which outcome. It is the
  ingest's audit trail (append-only in spirit; the hash-chained audit log is kept for control
  actions, it would serialise 50 batches a second).
* ``PositionRecord`` (the two position interfaces, typed columns) and ``EventRecord`` (orders,
  operations, ratings, car-pooling: a few typed columns plus the record as JSON). On PostgreSQL
  both are range-partitioned by the event time (monthly, created on demand, plus a DEFAULT
  partition), created by hand-written SQL in the migration; on SQLite they are plain tables.
* ``BaseInfoRecord`` (every accepted base-info record: history) and ``BaseInfoCurrent`` (latest
  version per natural key; an older UpdateTime never overwrites a newer one; Flag 3 marks deleted).
* ``UploadStat`` / ``RejectStat`` - counters per company, interface and day, upserted once per batch.
* ``ForwardingSubscriber`` / ``ForwardingOutbox`` - provincial/city platforms and the durable outbox.

Idempotency: unique constraints on (company, interface, natural key, version) where version is
UpdateTime for base info and the event time for everything else (so that the unique key contains
the partition key on PostgreSQL).

Personal data (ADR 0005, ``personal_data.py``): ``license_id`` columns and the personal parts of
``natural_key`` (LicenseId, PassengerPhone) hold ``core.crypto.lookup_hash`` values; personal
values inside ``payload`` are ``encrypt_field`` tokens; outbox envelopes with personal data are
one token.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from yunzheng.accounts.models import Company, CompanyCredential
from yunzheng.core.fields import EncryptedCharField

POSITION_DRIVER = 0x4001
POSITION_VEHICLE = 0x4002


class IngestBatch(models.Model):
    """One request to the exchange interface that got past authentication and envelope checks."""

    class WireFormat(models.TextChoices):
        JSON = "json", "JSON"
        PROTOBUF = "protobuf", "protobuf"

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    credential = models.ForeignKey(
        CompanyCredential, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    environment = models.CharField(_("environment"), max_length=16)
    interface = models.PositiveIntegerField(_("interface (IPCType code)"))
    wire_format = models.CharField(_("wire format"), max_length=16, choices=WireFormat.choices)
    received = models.PositiveIntegerField(_("received"), default=0)
    accepted = models.PositiveIntegerField(_("accepted"), default=0)
    duplicates = models.PositiveIntegerField(_("duplicates"), default=0)
    rejected = models.PositiveIntegerField(_("rejected"), default=0)
    received_at = models.DateTimeField(_("received at"))
    request_id = models.CharField(_("request id"), max_length=64, blank=True)
    # Log mode: the message's Nats-Msg-Id (a content hash); unique, so a redelivery stores nothing.
    log_msg_id = models.CharField(max_length=64, null=True, blank=True, unique=True)

    class Meta:
        verbose_name = _("upload batch")
        verbose_name_plural = _("upload batches")
        indexes = [
            models.Index(fields=["company", "interface", "received_at"], name="exchange_batch_company_time")
        ]

    def __str__(self) -> str:
        return f"batch {self.pk} ({self.interface:#06x}, {self.received} records)"


class PositionRecord(models.Model):
    """positionDriver (0x4001) and positionVehicle (0x4002). Partitioned by position_time on PG."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, db_constraint=False, related_name="+")
    interface = models.PositiveSmallIntegerField()
    vehicle_no = models.CharField(max_length=32)
    # positionDriver: lookup_hash of LicenseId (64 hex digits; an ID number, never stored in clear).
    license_id = models.CharField(max_length=64, blank=True, default="")
    position_time = models.DateTimeField()
    longitude = models.BigIntegerField()  # degrees x 10^6
    latitude = models.BigIntegerField()
    speed = models.BigIntegerField(null=True, blank=True)
    direction = models.IntegerField(null=True, blank=True)
    elevation = models.IntegerField(null=True, blank=True)
    mileage = models.FloatField(null=True, blank=True)
    encrypt = models.BigIntegerField(null=True, blank=True)
    warn_status = models.BigIntegerField(null=True, blank=True)
    veh_status = models.BigIntegerField(null=True, blank=True)
    biz_status = models.BigIntegerField(null=True, blank=True)
    order_id = models.CharField(max_length=64)
    region_code = models.IntegerField()
    reserved = models.TextField(blank=True, default="")
    received_at = models.DateTimeField()
    batch = models.ForeignKey(IngestBatch, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["company", "vehicle_no", "position_time"],
                condition=models.Q(interface=POSITION_VEHICLE),
                name="exchange_position_vehicle_key",
            ),
            models.UniqueConstraint(
                fields=["company", "license_id", "position_time"],
                condition=models.Q(interface=POSITION_DRIVER),
                name="exchange_position_driver_key",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.vehicle_no or self.license_id} @ {self.position_time}"


class EventRecord(models.Model):
    """Orders, operations, ratings and car-pooling records. Partitioned by event_time on PG."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, db_constraint=False, related_name="+")
    interface = models.PositiveSmallIntegerField()
    natural_key = models.TextField()
    event_time = models.DateTimeField()
    order_id = models.CharField(max_length=64, blank=True, default="")
    # lookup_hash of LicenseId (64 hex digits) where the record has one; "" otherwise.
    license_id = models.CharField(max_length=64, blank=True, default="")
    vehicle_no = models.CharField(max_length=32, blank=True, default="")
    region_code = models.IntegerField(null=True, blank=True)
    payload = models.JSONField()  # personal values as encrypt_field tokens (personal_data.py)
    received_at = models.DateTimeField()
    batch = models.ForeignKey(IngestBatch, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["company", "interface", "natural_key", "event_time"], name="exchange_event_key"
            )
        ]
        indexes = [models.Index(fields=["company", "order_id"], name="exchange_event_order")]

    def __str__(self) -> str:
        return f"{self.interface:#06x} {self.natural_key}"


class BaseInfoRecord(models.Model):
    """Every accepted base-information record (Flag 1/2/3 with UpdateTime): the history."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    interface = models.PositiveSmallIntegerField()
    natural_key = models.TextField()
    flag = models.PositiveSmallIntegerField()
    update_time = models.DateTimeField()
    region_code = models.IntegerField(null=True, blank=True)
    payload = models.JSONField()
    received_at = models.DateTimeField()
    batch = models.ForeignKey(IngestBatch, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["company", "interface", "natural_key", "update_time"], name="exchange_baseinfo_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.interface:#06x} {self.natural_key} v{self.update_time}"


class BaseInfoCurrent(models.Model):
    """The latest version (by UpdateTime) of each base-information item; Flag 3 sets ``deleted``."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    interface = models.PositiveSmallIntegerField()
    natural_key = models.TextField()
    flag = models.PositiveSmallIntegerField()
    deleted = models.BooleanField(default=False)
    update_time = models.DateTimeField()
    region_code = models.IntegerField(null=True, blank=True)
    payload = models.JSONField()
    received_at = models.DateTimeField()
    batch = models.ForeignKey(IngestBatch, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["company", "interface", "natural_key"], name="exchange_baseinfo_current_key"
            )
        ]
        indexes = [models.Index(fields=["interface", "region_code"], name="exchange_baseinfo_region")]

    def __str__(self) -> str:
        return f"{self.interface:#06x} {self.natural_key}"


class LogReceipt(models.Model):
    """Log mode: a routed message (a sandbox batch) handed to its route, recorded in the route's
    transaction; unique, so a redelivered message is skipped."""

    msg_id = models.CharField(max_length=64, unique=True)
    consumer = models.CharField(max_length=64)
    processed_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.consumer} {self.msg_id[:12]}"


class UploadStat(models.Model):
    """Upload counters of one company, interface, environment and day (Beijing time)."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    interface = models.PositiveIntegerField()
    environment = models.CharField(max_length=16)
    day = models.DateField()
    batches = models.PositiveIntegerField(default=0)
    received = models.PositiveBigIntegerField(default=0)
    accepted = models.PositiveBigIntegerField(default=0)
    duplicates = models.PositiveBigIntegerField(default=0)
    rejected = models.PositiveBigIntegerField(default=0)
    last_received_at = models.DateTimeField()
    # Lag = receipt time - event time (UpdateTime for base info), over the valid records.
    lag_count = models.PositiveBigIntegerField(default=0)
    lag_sum_seconds = models.BigIntegerField(default=0)
    lag_max_seconds = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["company", "interface", "environment", "day"], name="exchange_uploadstat_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.company_id} {self.interface:#06x} {self.day}"


class RejectStat(models.Model):
    """How often each rule rejected a field of one company's uploads, per interface and day."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    interface = models.PositiveIntegerField()
    environment = models.CharField(max_length=16)
    day = models.DateField()
    field = models.CharField(max_length=64)
    code = models.CharField(max_length=32)
    count = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["company", "interface", "environment", "day", "field", "code"],
                name="exchange_rejectstat_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.company_id} {self.interface:#06x} {self.field}/{self.code}"


class ForwardingSubscriber(models.Model):
    """A provincial or city platform that receives the records of its region over HTTP."""

    name = models.CharField(_("name"), max_length=100)
    # GB/T 2260 prefix: "33" a province, "3301" a city, "" everything.
    region_prefix = models.CharField(_("region prefix"), max_length=6, blank=True)
    url = models.URLField(_("URL"), max_length=500)
    token = EncryptedCharField(_("bearer token"), null=True, blank=True)
    # Interface type names to forward; empty = all.
    interfaces = models.JSONField(_("interfaces"), default=list, blank=True)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("forwarding subscriber")
        verbose_name_plural = _("forwarding subscribers")

    def __str__(self) -> str:
        return f"{self.name} ({self.region_prefix or '*'})"


class ForwardingOutbox(models.Model):
    """Records waiting to be forwarded to one subscriber: written in the ingest transaction."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        FAILED = "failed", pgettext_lazy("forwarding status", "Failed")  # licensing: 未通过

    subscriber = models.ForeignKey(ForwardingSubscriber, on_delete=models.CASCADE, related_name="outbox")
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    batch = models.ForeignKey(IngestBatch, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    interface = models.PositiveIntegerField()
    record_count = models.PositiveIntegerField()
    payload = models.TextField()  # the JSON envelope, as the subscriber receives it
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="exchange_outbox_due")]

    def __str__(self) -> str:
        return f"outbox {self.pk} -> {self.subscriber_id} ({self.status})"
