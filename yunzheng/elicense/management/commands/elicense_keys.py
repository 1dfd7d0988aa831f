"""`manage.py elicense_keys`: list, create, rotate and withdraw signing keys; export the trust list.

manage.py elicense_keys list
manage.py elicense_keys create --province 330000     (or --root for the ministry key)
manage.py elicense_keys rotate --province 330000
manage.py elicense_keys compromised --kid 330000-1a2b3c4d --reason "..."
manage.py elicense_keys trust-list > trust.json       (the signed list for offline verifiers)
manage.py elicense_keys root-key > root.pem           (publish out of band)
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from yunzheng.core.audit import Actor
from yunzheng.core.crypto import sm2_public_key_pem
from yunzheng.core.errors import DomainError
from yunzheng.elicense import services
from yunzheng.elicense.models import SigningKey


class Command(BaseCommand):
    help = "Manage electronic-licence signing keys and export the trust list."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "action", choices=["list", "create", "rotate", "compromised", "trust-list", "root-key"]
        )
        parser.add_argument("--province", default="")
        parser.add_argument("--root", action="store_true", help="the ministry trust-list key (000000)")
        parser.add_argument("--kid", default="")
        parser.add_argument("--reason", default="")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        actor = Actor.system("manage.py elicense_keys")
        purpose = SigningKey.Purpose.TRUST_LIST if options["root"] else SigningKey.Purpose.LICENCE
        province = services.ROOT_PROVINCE if options["root"] else options["province"]
        try:
            if action == "list":
                for key in SigningKey.objects.order_by("province", "valid_from"):
                    self.stdout.write(
                        f"{key.kid}  {key.purpose:10}  {key.status:11}  signs {key.valid_from:%Y-%m-%d}.."
                        f"{key.valid_until:%Y-%m-%d}  verifies until {key.verify_until:%Y-%m-%d}"
                    )
            elif action == "create":
                key = services.signing_key_create(province=province, purpose=purpose, actor=actor)
                self.stdout.write(key.kid)
            elif action == "rotate":
                key = services.signing_key_rotate(province=province, purpose=purpose, actor=actor)
                self.stdout.write(key.kid)
            elif action == "compromised":
                key = services.signing_key_mark_compromised(
                    kid=options["kid"], actor=actor, reason=options["reason"]
                )
                self.stdout.write(f"{key.kid} marked compromised")
            elif action == "trust-list":
                self.stdout.write(json.dumps(services.trust_list_issue(), ensure_ascii=False))
            else:
                self.stdout.write(sm2_public_key_pem(services.root_key().public_key_hex), ending="")
        except DomainError as error:
            raise CommandError(f"{error.code}: {error.message}") from error
