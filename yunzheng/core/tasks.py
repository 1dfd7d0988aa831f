"""Periodic work of core (core.scheduling): audit checkpoints where a signing key is configured."""

from __future__ import annotations

from django.conf import settings
from django_tasks import task

from yunzheng.core.scheduling import Periodic, run_command


@task()
def audit_checkpoint() -> str:
    return run_command("audit_checkpoint")


# Only on the host that holds the checkpoint key (README: keep it off the database host).
SCHEDULE = (
    [Periodic("core.audit_checkpoint", "*/10 * * * *", audit_checkpoint, "sign the audit chain head")]
    if settings.AUDIT_CHECKPOINT_PRIVATE_KEY
    else []
)
