"""Template filters rendering report codes in the reader's language (see texts.py)."""

from __future__ import annotations

from typing import Any

from django import template

from yunzheng.conformance import texts

register = template.Library()


@register.filter
def check_title(code: str) -> str:
    return texts.check_title(code)


@register.filter
def check_explanation(code: str, thresholds: dict[str, Any] | None) -> str:
    return texts.check_explanation(code, thresholds or {})


@register.filter
def example_text(example: dict[str, Any]) -> str:
    return texts.example_text(example)


@register.filter
def hint_text(hint: dict[str, Any] | None) -> str:
    return texts.hint_text(hint)


@register.filter
def status_label(status: str) -> str:
    return texts.status_label(status)


@register.filter
def rule_description(code: str) -> str:
    return texts.rule_description(code)


@register.filter
def rule_name(code: str) -> str:
    return texts.rule_name(code)


@register.filter
def party_label(code: str) -> str:
    return str(texts.PARTIES.get(code, code))


@register.filter
def lookup(mapping: dict[str, Any] | None, key: str) -> Any:
    return (mapping or {}).get(key)


@register.filter
def source_label(source: str) -> str:
    return texts.source_label(source)


@register.filter
def volume_basis_label(basis: str) -> str:
    return texts.volume_basis_label(basis)
