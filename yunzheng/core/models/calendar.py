"""Statutory holiday schedules that staff enter for years the chinesecalendar library lacks.

The State Council publishes each year's schedule (国务院办公厅关于…年部分节假日安排的通知) in
late autumn; the library follows months later. A year entered here overrides the library once a
second person has confirmed it (maker-checker, core.calendar_years); a draft counts for nothing.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _


class StatutoryCalendarYear(models.Model):
    year = models.PositiveSmallIntegerField(_("year"), unique=True)
    notice = models.CharField(
        _("notice"), max_length=200, help_text=_("The State Council notice that sets this year's schedule.")
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("entered by"),
    )
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("confirmed by"),
    )
    # None while the entry waits for a second person's confirmation; only confirmed years count.
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("statutory calendar year")
        verbose_name_plural = _("statutory calendar years")
        ordering = ["-year"]

    def __str__(self) -> str:
        return str(self.year)


class StatutoryCalendarDay(models.Model):
    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("Statutory holiday (day off)")
        ADJUSTED_WORKDAY = "workday", _("Adjusted working day (调休)")

    calendar_year = models.ForeignKey(
        StatutoryCalendarYear, on_delete=models.CASCADE, related_name="days", verbose_name=_("year")
    )
    date = models.DateField(_("date"), unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    name = models.CharField(_("festival"), max_length=50, help_text=_("e.g. 春节, 国庆节"))

    class Meta:
        verbose_name = _("statutory calendar day")
        verbose_name_plural = _("statutory calendar days")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {self.get_kind_display()} {self.name}"

    def clean(self) -> None:
        if self.date and self.calendar_year_id and self.date.year != self.calendar_year.year:
            raise ValidationError({"date": _("The date must fall in the calendar year it belongs to.")})
