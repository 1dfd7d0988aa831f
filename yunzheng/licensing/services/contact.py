"""The contact-person rule on the licensing side (issue #17 item 8): a change of a company's
designated contact person (accounts, confirmed by the legal representative's signed letter) is
told to the authorities handling the company's open applications, in the change's transaction
(registered in apps.ready through accounts.hooks)."""

from __future__ import annotations

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from yunzheng.accounts.models import ContactDesignation
from yunzheng.licensing import selectors
from yunzheng.licensing.models import TERMINAL_STEPS, LicenceApplication, Party
from yunzheng.licensing.services._common import notify


def contact_change_notify_authorities(designation: ContactDesignation) -> int:
    """Tell the city transport authority of every open application of the company, and whichever
    office must act on it now; returns how many notices were written."""
    sent = 0
    with translation.override(settings.LANGUAGE_CODE):
        for application in LicenceApplication.objects.filter(company_id=designation.company_id).exclude(
            step__in=TERMINAL_STEPS
        ):
            text = _(
                "Licence application #%(id)s: the company's designated contact person was changed to "
                "%(name)s, confirmed by the legal representative's signed letter. Reason: %(reason)s"
            ) % {
                "id": application.pk,
                "name": designation.contact.get_short_name(),
                "reason": designation.reason,
            }
            stage = selectors.open_stage(application)
            parties: set[str] = {Party.CITY_TRANSPORT}
            if stage is not None and stage.responsible != Party.COMPANY:
                parties.add(stage.responsible)
            for party in sorted(parties):
                notify(
                    party=party,
                    application=application,
                    text=text,
                    dedupe_key=f"contact-change:{designation.pk}:{application.pk}:{party}",
                    now=designation.designated_at,
                )
                sent += 1
    return sent
