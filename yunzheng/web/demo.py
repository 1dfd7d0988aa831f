"""Demo data owned by the web shell: the platform administrator (Django admin)."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from yunzheng.core.demodata import DemoLogin

ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = "yunzheng-admin-demo"  # noqa: S105  (demo only; `make run` prints it)


def load_demo() -> list[DemoLogin]:
    user_model = get_user_model()
    if not user_model.objects.filter(username=ADMIN_USERNAME).exists():
        user_model.objects.create_superuser(username=ADMIN_USERNAME, password=ADMIN_PASSWORD, email="")
    return [
        DemoLogin(
            role="Platform administrator (Django admin)",
            how=f"username {ADMIN_USERNAME} / password {ADMIN_PASSWORD}",
            where="/admin/",
        )
    ]
