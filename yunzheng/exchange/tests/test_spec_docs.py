"""The Markdown reference is rendered from the spec and the committed copy never drifts."""

from __future__ import annotations

from yunzheng.exchange.spec import FIELD_RULE_OVERRIDES, ErrorCode, get_spec
from yunzheng.exchange.spec.__main__ import main as spec_cli
from yunzheng.exchange.spec.docs import DOCS_PATH, render_interface_markdown

SPEC = get_spec()


def test_committed_docs_match_the_render():
    assert DOCS_PATH.read_text(encoding="utf-8") == render_interface_markdown(), (
        "docs/exchange-interface.md is stale: run python -m yunzheng.exchange.spec write"
    )


def test_render_is_deterministic():
    assert render_interface_markdown() == render_interface_markdown(SPEC)


def test_docs_cover_every_interface_field_and_error_code():
    text = render_interface_markdown()
    for iface in SPEC.interfaces.values():
        assert f"### {iface.type} — {iface.name_zh}" in text
        assert f"`POST {iface.http_path}`" in text
        assert iface.ipc_type_hex in text
        assert ", ".join(f"`{k}`" for k in iface.natural_key) in text
        for f in iface.fields:
            assert f"| {f.proto_number} | `{f.name}` | {f.name_zh} |" in text
    for code in ErrorCode:
        assert f"| `{code.value}` |" in text
    for (itype, fname), (_changes, _reason) in FIELD_RULE_OVERRIDES.items():
        assert f"`{itype}.{fname}`" in text
    assert "Commercial-Type" in text
    assert "stdnum" in text


def test_cli_check_passes_on_the_committed_files(capsys):
    assert spec_cli(["check"]) == 0
    assert capsys.readouterr().out == ""
