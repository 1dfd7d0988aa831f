"""`manage.py purge_accounts_data`: delete SMS code rows (and their IP addresses) older than two days
and real-name drafts (with their photos) never submitted within a day. Run it daily (cron/timer)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from yunzheng.accounts.services import realname_draft_purge, sms_code_purge


class Command(BaseCommand):
    help = "Delete expired SMS code rows and abandoned real-name drafts."

    def handle(self, *args: Any, **options: Any) -> None:
        codes = sms_code_purge()
        drafts = realname_draft_purge()
        self.stdout.write(f"deleted {codes} SMS code rows and {drafts} real-name drafts")
