"""People and companies that use the platform.

Personal data (phone, name, ID number) is stored encrypted (EncryptedCharField) with an HMAC-SM3
lookup hash beside it; pages show it masked. Usernames are never phone numbers.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from yunzheng.core.crypto import mask_phone
from yunzheng.core.fields import EncryptedCharField


class User(AbstractUser):
    """Everyone who logs in. The public (drivers, company staff) use phone + SMS code; staff use a
    password and a second factor (TOTP)."""

    class Kind(models.TextChoices):
        PUBLIC = "public", _("Public user")
        STAFF = "staff", _("Government staff")

    class RealNameStatus(models.TextChoices):
        UNVERIFIED = "unverified", _("Not verified")
        PENDING = "pending", _("Under review")
        VERIFIED = "verified", _("Verified")
        REJECTED = "rejected", _("Rejected")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.PUBLIC)
    phone = EncryptedCharField(_("mobile phone"), null=True, blank=True)
    phone_hash = models.CharField(max_length=64, unique=True, null=True, blank=True, editable=False)
    real_name_status = models.CharField(
        _("real-name status"),
        max_length=16,
        choices=RealNameStatus.choices,
        default=RealNameStatus.UNVERIFIED,
    )
    # Filled from an approved real-name verification only.
    real_name = EncryptedCharField(_("real name"), null=True, blank=True)
    id_number = EncryptedCharField(_("resident ID number"), null=True, blank=True)
    id_number_hash = models.CharField(max_length=64, blank=True, default="", db_index=True, editable=False)
    real_name_verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            # One verified account per person: the ID-number hash is unique among verified users.
            models.UniqueConstraint(
                fields=["id_number_hash"],
                condition=models.Q(real_name_status="verified"),
                name="accounts_user_one_verified_account_per_id",
            )
        ]

    @property
    def is_real_name_verified(self) -> bool:
        return self.real_name_status == self.RealNameStatus.VERIFIED

    @property
    def audit_label(self) -> str:
        """How the audit log names this user: masked phone, or the staff username."""
        if self.phone:
            return f"user#{self.pk} {mask_phone(self.phone)}"
        return f"user#{self.pk} {self.username}"


class Company(models.Model):
    """A ride-hailing platform company (网约车平台公司)."""

    credit_code = models.CharField(_("unified social credit code"), max_length=18, unique=True)
    name = models.CharField(_("company name"), max_length=200)
    legal_representative = models.CharField(_("legal representative"), max_length=50)
    # 公司标识: the identifier the ministry assigns for the exchange interface, ≤32 half-width chars.
    supervision_company_id = models.CharField(_("CompanyId (supervision)"), max_length=32, unique=True)
    region_code = models.CharField(_("registered region (GB/T 2260)"), max_length=6, blank=True)
    contact_user = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="contact_for_companies",
        verbose_name=_("designated contact person"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("company")
        verbose_name_plural = _("companies")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class CompanyCredential(models.Model):
    """A machine credential for a company's uploads: `yz_<key id>_<secret>`; only the hash is kept."""

    class Environment(models.TextChoices):
        PRODUCTION = "production", _("Production")
        SANDBOX = "sandbox", _("Test sandbox")

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="credentials")
    name = models.CharField(_("name"), max_length=100)
    environment = models.CharField(
        _("environment"), max_length=16, choices=Environment.choices, default=Environment.PRODUCTION
    )
    key_id = models.CharField(_("key id"), max_length=24, unique=True)
    secret_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API credential")
        verbose_name_plural = _("API credentials")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.company} · {self.name} ({self.key_id})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
