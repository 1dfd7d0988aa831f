"""`manage.py forwarding_subscriber add|list|deactivate`: manage the platforms records go to."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from yunzheng.exchange.forwarding import forwarding_subscriber_create, forwarding_subscriber_set_active
from yunzheng.exchange.models import ForwardingSubscriber


class Command(BaseCommand):
    help = "Add, list or deactivate forwarding subscribers (audited)."

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add")
        add.add_argument("name")
        add.add_argument("region_prefix", help='GB/T 2260 prefix: "33" province, "3301" city, "" all')
        add.add_argument("url")
        add.add_argument("--token", default="")
        add.add_argument("--interface", action="append", default=[], help="limit to these interface types")
        sub.add_parser("list")
        off = sub.add_parser("deactivate")
        off.add_argument("id", type=int)

    def handle(self, *args: Any, action: str, **o: Any) -> None:
        if action == "add":
            try:
                s = forwarding_subscriber_create(
                    name=o["name"],
                    region_prefix=o["region_prefix"],
                    url=o["url"],
                    token=o["token"],
                    interfaces=o["interface"],
                )
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(f"subscriber {s.pk} added")
        elif action == "list":
            for s in ForwardingSubscriber.objects.order_by("pk"):
                state = "active" if s.active else "inactive"
                self.stdout.write(f"{s.pk}\t{s.name}\t{s.region_prefix or '*'}\t{s.url}\t{state}")
        else:
            found = ForwardingSubscriber.objects.filter(pk=o["id"]).first()
            if found is None:
                raise CommandError(f"no subscriber {o['id']}")
            forwarding_subscriber_set_active(subscriber=found, active=False)
            self.stdout.write(f"subscriber {found.pk} deactivated")
