"""People and companies that use the platform.

Personal data (phone, name, ID number) is stored encrypted (EncryptedCharField) with an HMAC-SM3
lookup hash beside it; pages show it masked. Usernames are never phone numbers.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from yunzheng.accounts.policies import PRIVACY_POLICY, USER_AGREEMENT
from yunzheng.core.crypto import mask_name, mask_phone
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
        REJECTED = "rejected", pgettext_lazy("real-name status", "Rejected")

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
    def is_public(self) -> bool:
        return self.kind == self.Kind.PUBLIC

    def get_short_name(self) -> str:
        """What the page header shows: a masked name or phone, never a random username."""
        if self.is_real_name_verified and self.real_name:
            return mask_name(self.real_name)
        if self.phone:
            return mask_phone(self.phone)
        return self.get_username()

    @property
    def is_government_staff(self) -> bool:
        """A staff account with its department, level and region (what `core.auth` asks)."""
        if self.kind != self.Kind.STAFF or not self.is_active:
            return False
        try:
            return self.staff_profile is not None
        except StaffProfile.DoesNotExist:
            return False

    @property
    def audit_actor_kind(self) -> str:
        """Government staff are audited as staff although they are not Django `is_staff` (which
        would open the admin site to a password alone)."""
        return "staff" if self.kind == self.Kind.STAFF else ("staff" if self.is_staff else "user")

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


class RegistryCredential(models.Model):
    """A machine credential of a provincial (or city) system feeding the registries:
    `yzr_<key id>_<secret>`; only the hash is kept. Issued and revoked by transport staff; its
    writes are confined to `region_code` (a province's code covers its cities) and audited with it."""

    name = models.CharField(_("system"), max_length=100)
    region_code = models.CharField(_("region (GB/T 2260)"), max_length=6)
    key_id = models.CharField(_("key id"), max_length=24, unique=True)
    secret_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(_("created at"))
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("registry feed credential")
        verbose_name_plural = _("registry feed credentials")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.region_code}, {self.key_id})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @property
    def region_prefix(self) -> str:
        """The codes it may write: a province's first two digits, a city's first four."""
        if self.region_code.endswith("0000"):
            return self.region_code[:2]
        if self.region_code.endswith("00"):
            return self.region_code[:4]
        return self.region_code


class CompanyMembership(models.Model):
    """A public user who acts for a company. The designated contact person is always a member and
    is the one who manages credentials, members and the contact designation itself."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="company_memberships")
    created_at = models.DateTimeField(_("added at"), auto_now_add=True)
    added_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        verbose_name = _("company member")
        verbose_name_plural = _("company members")
        constraints = [
            models.UniqueConstraint(fields=["company", "user"], name="accounts_membership_once_per_company")
        ]

    def __str__(self) -> str:
        return f"{self.company} · user#{self.user_id}"


# --------------------------------------------------------------------------------------------
# SMS login
# --------------------------------------------------------------------------------------------


class SmsCode(models.Model):
    """One issued one-time code. Rows double as the rate-limit ledger (per phone and per client IP),
    so limits hold across server processes and on both SQLite and PostgreSQL.

    Only an HMAC of the code is kept (keyed with FIELD_HASH_KEY, salted per row), so neither the
    database nor a backup reveals a usable code. Rows older than two days are purged.
    """

    class Purpose(models.TextChoices):
        LOGIN = "login", _("Login")

    phone_hash = models.CharField(max_length=64)
    purpose = models.CharField(max_length=16, choices=Purpose.choices, default=Purpose.LOGIN)
    salt = models.CharField(max_length=32)
    code_hash = models.CharField(max_length=64)
    # Set from REMOTE_ADDR: a reverse proxy in front must put the real client address there.
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    consumed_at = models.DateTimeField(null=True, blank=True)
    # Superseded by a newer code, or killed by too many wrong attempts.
    invalidated_at = models.DateTimeField(null=True, blank=True)
    # Set on the code that took the last wrong attempt: the phone is locked until then.
    locked_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("SMS code")
        verbose_name_plural = _("SMS codes")
        indexes = [
            models.Index(fields=["phone_hash", "created_at"], name="accounts_smscode_phone_time"),
            models.Index(fields=["client_ip", "created_at"], name="accounts_smscode_ip_time"),
            models.Index(fields=["created_at"], name="accounts_smscode_time"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(expires_at__gt=models.F("created_at")),
                name="accounts_smscode_expires_after_creation",
            )
        ]

    def __str__(self) -> str:
        return f"SMS code #{self.pk} ({self.purpose})"


class PolicyAcceptance(models.Model):
    """That a user accepted a version of the user agreement or privacy policy, when and from where."""

    class Document(models.TextChoices):
        USER_AGREEMENT = USER_AGREEMENT, _("User agreement")
        PRIVACY_POLICY = PRIVACY_POLICY, _("Privacy policy")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="policy_acceptances")
    document = models.CharField(_("document"), max_length=32, choices=Document.choices)
    version = models.CharField(_("version"), max_length=32)
    accepted_at = models.DateTimeField(_("accepted at"))
    client_ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        verbose_name = _("policy acceptance")
        verbose_name_plural = _("policy acceptances")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "document", "version"], name="accounts_policy_accepted_once_per_version"
            )
        ]

    def __str__(self) -> str:
        return f"user#{self.user_id} {self.document}@{self.version}"


class UserToken(models.Model):
    """A bearer token for app and mini-program clients. Only the SM3 hash of the token is kept."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    token_hash = models.CharField(max_length=64, unique=True)
    client_name = models.CharField(_("client"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("created at"))
    expires_at = models.DateTimeField(_("expires at"))
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"token #{self.pk} of user#{self.user_id}"


# --------------------------------------------------------------------------------------------
# Real-name verification
# --------------------------------------------------------------------------------------------


class RealNameVerification(models.Model):
    """One attempt to verify who a user is, from a photo of the ID card's portrait side.

    draft: photo uploaded and read (OCR prefill kept, encrypted, to compare with what is submitted);
    pending: submitted, waiting for staff; approved / rejected: decided. Raw OCR text is never kept.
    The photo is stored encrypted in private storage (see services), never under a public URL.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PENDING = "pending", _("Under review")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", pgettext_lazy("real-name status", "Rejected")

    class Sex(models.TextChoices):
        MALE = "M", _("Male")
        FEMALE = "F", _("Female")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="real_name_verifications")
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.DRAFT)
    photo_name = models.CharField(max_length=200, blank=True)
    photo_sha256 = models.CharField(max_length=64, blank=True)
    photo_content_type = models.CharField(max_length=32, blank=True)
    # JSON of the fields read by OCR (ocr.IdCardFields), encrypted.
    prefill = EncryptedCharField(null=True, blank=True)
    name = EncryptedCharField(_("name"), null=True, blank=True)
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices, blank=True)
    ethnicity = models.CharField(_("ethnicity"), max_length=20, blank=True)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    address = EncryptedCharField(_("address"), null=True, blank=True)
    id_number = EncryptedCharField(_("resident ID number"), null=True, blank=True)
    id_number_hash = models.CharField(max_length=64, blank=True, default="", db_index=True)
    # From the ID number: routes the review to the authority of that region.
    region_code = models.CharField(_("region code"), max_length=6, blank=True, db_index=True)
    backend = models.CharField(_("decided by"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"))
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("reviewer")
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    reason = models.TextField(_("reason"), blank=True)

    class Meta:
        verbose_name = _("real-name verification")
        verbose_name_plural = _("real-name verifications")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(status="pending"),
                name="accounts_realname_one_pending_per_user",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="rejected", reason=""),
                name="accounts_realname_rejection_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"real-name verification #{self.pk} ({self.status})"


# --------------------------------------------------------------------------------------------
# Staff
# --------------------------------------------------------------------------------------------


class StaffProfile(models.Model):
    """Where a government employee sits: department, level and region decide what they may see."""

    class Department(models.TextChoices):
        TRANSPORT = "transport", _("Transport authority")
        PUBLIC_SECURITY = "public_security", _("Public security")
        PBOC = "pboc", _("People's Bank of China")
        TAX = "tax", _("Taxation")
        COMMUNICATIONS = "communications", _("Communications administration")
        CYBERSPACE = "cyberspace", _("Cyberspace administration")

    class Level(models.TextChoices):
        MINISTRY = "ministry", pgettext_lazy("administrative level", "Ministry")
        PROVINCE = "province", pgettext_lazy("administrative level", "Province")
        CITY = "city", pgettext_lazy("administrative level", "City")

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="staff_profile")
    department = models.CharField(_("department"), max_length=32, choices=Department.choices)
    level = models.CharField(_("level"), max_length=16, choices=Level.choices)
    # GB/T 2260: a province ends in 0000, a city in 00; empty for the ministry (nationwide).
    region_code = models.CharField(_("region (GB/T 2260)"), max_length=6, blank=True)
    unit_name = models.CharField(_("unit"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("staff profile")
        verbose_name_plural = _("staff profiles")
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(level="ministry", region_code="")
                    | models.Q(level="province", region_code__endswith="0000")
                    | (
                        models.Q(level="city", region_code__endswith="00")
                        & ~models.Q(region_code__endswith="0000")
                    )
                ),
                name="accounts_staff_region_matches_level",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user.get_username()} ({self.get_department_display()}, {self.get_level_display()})"


class StaffCredentialToken(models.Model):
    """A one-time link an administrator issues to a staff member: enrol an authenticator, or set a
    new password. Only the hash is kept; the link is shown once to the administrator."""

    class Purpose(models.TextChoices):
        ENROL = "enrol", _("Authenticator enrolment")
        PASSWORD_RESET = "password_reset", _("Password reset")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="credential_tokens")
    purpose = models.CharField(_("purpose"), max_length=16, choices=Purpose.choices)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    issued_by = models.CharField(_("issued by"), max_length=128)
    created_at = models.DateTimeField(_("created at"))
    expires_at = models.DateTimeField(_("expires at"))
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("staff credential link")
        verbose_name_plural = _("staff credential links")

    def __str__(self) -> str:
        return f"{self.purpose} #{self.pk}"


class StaffLoginFailure(models.Model):
    """A wrong password or authenticator code at the staff login: counted per account (hash of the
    username, which need not exist) and per client address to lock guessing out."""

    class Stage(models.TextChoices):
        PASSWORD = "password", _("password")
        TOTP = "totp", _("authenticator code")

    username_hash = models.CharField(max_length=64, db_index=True)
    client_ip = models.GenericIPAddressField(null=True, blank=True, db_index=True)
    stage = models.CharField(max_length=8, choices=Stage.choices)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = _("staff login failure")
        verbose_name_plural = _("staff login failures")

    def __str__(self) -> str:
        return f"{self.stage} failure #{self.pk}"


class ContactDesignation(models.Model):
    """The record of who was designated a company's contact person, when, by whom and why, with
    the legal representative's signed confirmation (授权委托书, signed and sealed; PDF or image,
    checked by content and stored encrypted in core.private_files)."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="contact_designations")
    contact = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="+", verbose_name=_("contact person")
    )
    previous_contact = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("previous contact"),
    )
    designated_by = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="+", verbose_name=_("designated by")
    )
    reason = models.TextField(_("reason"))
    designated_at = models.DateTimeField(_("designated at"))
    letter_stored_name = models.CharField(max_length=200)
    letter_original_name = models.CharField(_("confirmation file"), max_length=200)
    letter_content_type = models.CharField(max_length=64)
    letter_sha256 = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("contact designation")
        verbose_name_plural = _("contact designations")
        ordering = ["-designated_at", "-id"]

    def __str__(self) -> str:
        return f"contact designation #{self.pk} of company {self.company_id}"
