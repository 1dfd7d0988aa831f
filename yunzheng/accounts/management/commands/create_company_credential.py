"""`manage.py create_company_credential <credit code> [--name NAME] ...`: an API credential for a
company's machine uploads, for operators' scripts.

Creates the company first if it is not registered yet. Prints exactly one JSON object on stdout:
{"company_id": ..., "credit_code": ..., "company_created": ..., "credential_key_id": ...,
"environment": ..., "token": "yz_..."}. The token is shown only here; only its hash is stored.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from yunzheng.accounts.credentials import company_credential_create
from yunzheng.accounts.models import CompanyCredential
from yunzheng.accounts.services import company_get_or_create_for_operator
from yunzheng.core.errors import DomainError


class Command(BaseCommand):
    help = "Create an API credential for a company (creating the company if needed); prints JSON."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("credit_code", help="unified social credit code (18 characters)")
        parser.add_argument("--name", default="upload", help="a name for the credential")
        parser.add_argument("--company-name", default="", help="company name, if the company is new")
        parser.add_argument("--legal-representative", default="", help="if the company is new")
        parser.add_argument(
            "--company-id", default="", help="the ministry-assigned CompanyId, if the company is new"
        )
        parser.add_argument(
            "--environment",
            default=CompanyCredential.Environment.PRODUCTION,
            choices=CompanyCredential.Environment.values,
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            company, created = company_get_or_create_for_operator(
                credit_code=options["credit_code"],
                name=options["company_name"],
                legal_representative=options["legal_representative"],
                supervision_company_id=options["company_id"],
            )
        except DomainError as error:
            raise CommandError(f"{error.code}: {error.message}") from None
        issued = company_credential_create(
            company=company, name=options["name"][:100], environment=options["environment"]
        )
        self.stdout.write(
            json.dumps(
                {
                    "company_id": company.supervision_company_id,
                    "credit_code": company.credit_code,
                    "company_created": created,
                    "credential_key_id": issued.credential.key_id,
                    "environment": issued.credential.environment,
                    "token": issued.token,
                },
                ensure_ascii=False,
            )
        )
