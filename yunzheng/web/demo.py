"""Demo data owned by the web shell: the platform administrator (Django admin, password + TOTP)."""

from __future__ import annotations

import base64

from django.contrib.auth import get_user_model
from django_otp.plugins.otp_totp.models import TOTPDevice

from yunzheng.accounts.services import staff_totp_device_create
from yunzheng.core.demodata import DemoLogin

ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = "yunzheng-admin-demo"  # noqa: S105  (demo only; `make run` prints it)


def load_demo() -> list[DemoLogin]:
    user_model = get_user_model()
    admin = user_model.objects.filter(username=ADMIN_USERNAME).first()
    if admin is None:
        admin = user_model.objects.create_superuser(
            username=ADMIN_USERNAME, password=ADMIN_PASSWORD, email=""
        )
    # The admin site requires a second factor (config/urls.py uses django-otp's OTPAdminSite).
    device = TOTPDevice.objects.filter(user=admin, confirmed=True).first()
    if device is None:
        device = staff_totp_device_create(user=admin, confirmed=True, name="demo admin")
    secret = base64.b32encode(device.bin_key).decode("ascii")
    return [
        DemoLogin(
            role="Platform administrator (Django admin)",
            how=(
                f"username {ADMIN_USERNAME} / password {ADMIN_PASSWORD} / TOTP secret {secret} "
                f"(or: manage.py totp_code {ADMIN_USERNAME})"
            ),
            where="/admin/",
        )
    ]
