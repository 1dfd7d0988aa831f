"""Tables of the real-time alarms (docs/adr/0060-alarms-real-time-rules.md).

* ``AlarmRule`` is a rule as it is now; ``AlarmRuleVersion`` keeps every version (append-only):
  each change through the services writes a new version and an audit entry.
* ``EngineState`` is the evaluation state of one subject (a vehicle, a driver, a company's city)
  across all rules: a small JSON document locked and updated per batch, so every gunicorn worker
  (and the log consumer) evaluates with the same state.
* ``Alarm`` is one incident: opened once by the engine, its evidence appended while it lasts,
  closed by the engine when the condition ends (or by staff). ``AlarmEvent`` is its record of what
  happened (engine, staff, company answers); ``AlarmNotification`` an in-app notice.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from yunzheng.accounts.models import Company


class RuleKind(models.TextChoices):
    UNLICENSED_ORDER = "unlicensed_order", _("Unlicensed driver or vehicle takes an order")
    OUTSIDE_LICENSED_CITIES = "outside_licensed_cities", _("Platform operates outside its licensed cities")
    OUT_OF_CITY = "out_of_city", _("Vehicle carries passengers outside its city")
    CONTINUOUS_DRIVING = "continuous_driving", _("Continuous driving without a break")
    WARN_STATUS = "warn_status", _("Terminal alarm bits (WarnStatus)")
    FARE_BAND = "fare_band", _("Fare outside the band")
    STALE_FEED = "stale_feed", _("Stale position feed")
    CLUSTERING = "clustering", _("Vehicles gathering in a small area")


class Severity(models.TextChoices):
    CRITICAL = "critical", pgettext_lazy("alarm severity", "Critical")
    HIGH = "high", pgettext_lazy("alarm severity", "High")
    MEDIUM = "medium", pgettext_lazy("alarm severity", "Medium")
    LOW = "low", pgettext_lazy("alarm severity", "Low")


SEVERITY_ORDER = {Severity.CRITICAL: 0, Severity.HIGH: 1, Severity.MEDIUM: 2, Severity.LOW: 3}


class AlarmRule(models.Model):
    """A rule of one region (GB/T 2260 code: a province, a city; ministry = "")."""

    name = models.CharField(_("name"), max_length=100)
    region_code = models.CharField(_("region (GB/T 2260)"), max_length=6, blank=True)
    kind = models.CharField(_("kind"), max_length=32, choices=RuleKind.choices)
    severity = models.CharField(_("severity"), max_length=16, choices=Severity.choices)
    schedule = models.JSONField(_("schedule"), default=dict, blank=True)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    enabled = models.BooleanField(_("enabled"), default=False)
    version = models.PositiveIntegerField(_("version"), default=1)
    created_at = models.DateTimeField(_("created at"))
    updated_at = models.DateTimeField(_("updated at"), db_index=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("alarm rule")
        verbose_name_plural = _("alarm rules")
        ordering = ["region_code", "kind", "id"]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"


class AlarmRuleVersion(models.Model):
    """One version of a rule, as it was saved (never changed afterwards)."""

    rule = models.ForeignKey(AlarmRule, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    name = models.CharField(max_length=100)
    region_code = models.CharField(max_length=6, blank=True)
    kind = models.CharField(max_length=32, choices=RuleKind.choices)
    severity = models.CharField(max_length=16, choices=Severity.choices)
    schedule = models.JSONField(default=dict)
    params = models.JSONField(default=dict)
    enabled = models.BooleanField()
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["rule", "-version"]
        constraints = [models.UniqueConstraint(fields=["rule", "version"], name="alarms_rule_version_once")]

    def __str__(self) -> str:
        return f"rule #{self.rule_id} v{self.version}"


class EngineState(models.Model):
    """Evaluation state of one subject: ``v:<company>:<plate>``, ``d:<company>:<hash>``, ``c:<company>``.

    ``data`` holds per-rule state; the columns beside it serve the periodic checks (stale feed,
    clustering) without parsing JSON.
    """

    key = models.CharField(max_length=120, unique=True)
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    data = models.JSONField(default=dict)
    region_code = models.IntegerField(null=True, blank=True)
    last_seen = models.DateTimeField(null=True, blank=True)
    in_service = models.BooleanField(default=False)
    longitude = models.BigIntegerField(null=True, blank=True)
    latitude = models.BigIntegerField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["in_service", "last_seen"], name="alarms_state_service")]

    def __str__(self) -> str:
        return self.key


class Alarm(models.Model):
    class State(models.TextChoices):
        OPEN = "open", pgettext_lazy("alarm state", "Open")
        ACKNOWLEDGED = "acknowledged", pgettext_lazy("alarm state", "Acknowledged")
        CLOSED = "closed", pgettext_lazy("alarm state", "Closed")

    rule = models.ForeignKey(AlarmRule, on_delete=models.PROTECT, related_name="alarms")
    rule_version = models.PositiveIntegerField()
    kind = models.CharField(_("kind"), max_length=32, choices=RuleKind.choices)
    severity = models.CharField(_("severity"), max_length=16, choices=Severity.choices)
    is_sos = models.BooleanField(_("SOS"), default=False)
    subject = models.CharField(max_length=120)
    # None for incidents of several companies (clustering).
    company = models.ForeignKey(Company, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    region_code = models.CharField(_("region"), max_length=6, db_index=True)
    vehicle_no = models.CharField(_("plate"), max_length=32, blank=True)
    driver_hash = models.CharField(max_length=64, blank=True)
    driver_display = models.CharField(_("driver"), max_length=32, blank=True)  # masked
    order_id = models.CharField(_("order"), max_length=64, blank=True)
    detail = models.CharField(_("detail"), max_length=300, blank=True)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.OPEN)
    opened_at = models.DateTimeField(_("opened at"))  # the triggering record's time
    raised_at = models.DateTimeField(_("raised at"))  # when the engine stored it
    last_evidence_at = models.DateTimeField(null=True, blank=True)
    condition_ended_at = models.DateTimeField(_("condition ended at"), null=True, blank=True)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    close_note = models.CharField(_("closing note"), max_length=500, blank=True)
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    evidence = models.JSONField(default=list)  # the triggering records (no personal data)
    track = models.JSONField(default=list)  # [[lon, lat, epoch], ...] micro-degrees

    class Meta:
        verbose_name = _("alarm")
        verbose_name_plural = _("alarms")
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "subject"],
                condition=~models.Q(state="closed"),
                name="alarms_one_open_incident",
            )
        ]
        indexes = [models.Index(fields=["state", "region_code"], name="alarms_state_region")]

    def __str__(self) -> str:
        return f"alarm #{self.pk} {self.kind} {self.subject} ({self.state})"


class AlarmEvent(models.Model):
    """What happened to an alarm, append-only: by the engine, staff or the company."""

    class Action(models.TextChoices):
        OPENED = "opened", _("Opened")
        CONDITION_ENDED = "condition_ended", _("Condition ended")
        AUTO_CLOSED = "auto_closed", _("Closed automatically")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        ASSIGNED = "assigned", _("Assigned")
        CLOSED = "closed", _("Closed")
        ESCALATED = "escalated", _("Escalated")
        NOTE = "note", _("Note")
        EXPLANATION = "explanation", _("Company explanation")
        CORRECTION = "correction", _("Company correction")

    alarm = models.ForeignKey(Alarm, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=24, choices=Action.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_label = models.CharField(max_length=100, blank=True)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.action} on alarm #{self.alarm_id}"


class AlarmNotification(models.Model):
    """An in-app notice to one staff member on duty (the desk shows the unread ones)."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    alarm = models.ForeignKey(Alarm, on_delete=models.CASCADE, related_name="notifications")
    text = models.CharField(max_length=300)
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipient", "read_at"], name="alarms_notice_unread")]

    def __str__(self) -> str:
        return self.text


class DutyRoster(models.Model):
    """Who is on duty for alarms in a region (staff mark themselves on/off duty on the desk)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    on_duty = models.BooleanField(default=True)
    updated_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"user#{self.user_id} on duty: {self.on_duty}"
