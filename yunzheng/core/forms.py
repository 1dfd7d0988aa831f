"""The one adapter from a service's DomainError to a page.

Pages validate input with Django forms and call a service; when the service refuses, its error
goes on the form fields it names (`ErrorDetail.field`; an indexed field such as ``days[2]`` goes on
``days``), or above the form when it names none of them. Pages without a form show it as one
message (`error_text`); such pages turn an invalid form into the same kind of error
(`cleaned_data`, `form_error`).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import NON_FIELD_ERRORS
from django.http import HttpRequest

from yunzheng.core.errors import DomainError, ValidationFailed


def add_domain_error(form: forms.Form, error: DomainError, *, field: str | None = None) -> None:
    """Show a service's error on the fields it names, else on ``field`` (a page whose form has
    one input the error can only be about), else above the form."""
    placed = False
    for detail in error.details:
        target = detail.field.split("[", 1)[0]
        if target in form.fields:
            form.add_error(target, detail.message)
            placed = True
    if not placed:
        form.add_error(field, error.message)


def error_text(error: DomainError) -> str:
    """The error and its details in one line (for pages that answer with a message)."""
    extra = [d.message for d in error.details if d.message and d.message != error.message]
    return f"{error.message} {'；'.join(extra)}" if extra else error.message


def message_domain_error(request: HttpRequest, error: DomainError) -> None:
    """Show a service's error as a message on the next page."""
    messages.error(request, error_text(error))


def form_error(form: forms.Form, *, code: str) -> ValidationFailed:
    """A bound form's first invalid field as the ValidationFailed a service would raise, for pages
    that answer with a message rather than the form (``form.errors`` is in field order)."""
    for field, errors in form.errors.items():
        name = "" if field == NON_FIELD_ERRORS else field
        return ValidationFailed.single(field=name, code=code, message=str(errors[0]))
    raise ValueError("the form has no errors")


def cleaned_data(form: forms.Form, *, code: str) -> dict[str, Any]:
    """The form's cleaned data, or its first error raised as a ValidationFailed with ``code``."""
    if not form.is_valid():
        raise form_error(form, code=code)
    return form.cleaned_data
