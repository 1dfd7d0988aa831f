"""The audit log: append-only rows, each carrying the hash of the previous one.

Rewriting or deleting a past row breaks the chain, which `manage.py verify_audit` detects. The
database refuses UPDATE (and on PostgreSQL DELETE) through triggers created in the migration, so
tampering takes deliberate database-administrator action, not a stray ORM call.
"""

from __future__ import annotations

from typing import Any, NoReturn

from django.db import models
from django.utils.translation import gettext_lazy as _


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> NoReturn:
        raise TypeError("The audit log is append-only.")

    def delete(self) -> NoReturn:
        raise TypeError("The audit log is append-only.")


class AuditEntry(models.Model):
    class ActorKind(models.TextChoices):
        USER = "user", _("User")
        STAFF = "staff", _("Staff")
        COMPANY = "company", _("Company")
        SYSTEM = "system", _("System")
        ANONYMOUS = "anonymous", _("Anonymous")

    created_at = models.DateTimeField(_("time"), db_index=True)
    actor_kind = models.CharField(_("actor kind"), max_length=16, choices=ActorKind.choices)
    actor_id = models.CharField(_("actor id"), max_length=64, blank=True)
    actor_label = models.CharField(_("actor"), max_length=128, blank=True)
    action = models.CharField(_("action"), max_length=100, db_index=True)
    target_type = models.CharField(_("object type"), max_length=100)
    target_id = models.CharField(_("object id"), max_length=100, blank=True)
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    request_id = models.CharField(_("request id"), max_length=64, blank=True)
    prev_hash = models.CharField(max_length=64)
    entry_hash = models.CharField(max_length=64, unique=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")
        ordering = ["id"]
        indexes = [models.Index(fields=["target_type", "target_id"], name="audit_target_idx")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.action} {self.target_type}:{self.target_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise TypeError("The audit log is append-only: entries cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise TypeError("The audit log is append-only: entries cannot be deleted.")


class AuditCheckpoint(models.Model):
    """A signed statement "the chain had `entry_count` entries ending in `entry_hash`" (see
    `core.audit_anchor`). Kept here for convenience; the copy that counts is exported outside the
    database, where whoever can rewrite the audit table cannot reach it."""

    created_at = models.DateTimeField(_("time"))
    entry_id = models.BigIntegerField(_("head entry"))
    entry_hash = models.CharField(max_length=64)
    key_id = models.CharField(max_length=16)
    signature = models.CharField(max_length=160)

    class Meta:
        verbose_name = _("audit checkpoint")
        verbose_name_plural = _("audit checkpoints")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"checkpoint {self.pk} at entry {self.entry_id}"
