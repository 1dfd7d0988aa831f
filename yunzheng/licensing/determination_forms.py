"""Form of the second city's review of a local licence application (地牌)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _


class LocalReviewForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"), choices=[("accept", _("Pass the review")), ("return", _("Return with reasons"))]
    )
    reason = forms.CharField(label=_("Reasons"), required=False, max_length=2000)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("decision") == "return" and not (data.get("reason") or "").strip():
            self.add_error("reason", _("Give the reasons for returning the materials."))
        return data
