"""Connectivity test (连通性测试): the test sheet of the 32 interfaces for one cycle.

An interface passes when at least one record of it arrived in the cycle and no record of it had
any field error. Strict on purpose: a later correct record does not heal an earlier bad one within
a cycle (the sheet shows both counts); after fixing, the company starts a new cycle. Every
offending field is listed with its rule, how often it failed, a few examples (value as sent -
personal data masked - and the validator's message) and a concrete fix hint (:mod:`.hints`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from yunzheng.conformance.hints import display_value, fix_hint
from yunzheng.exchange.spec import Spec, get_spec

NOT_RECEIVED = "not_received"
PASS = "pass"  # noqa: S105 - a status, not a password
FAIL = "fail"


def build_connectivity_report(
    *,
    counts: Mapping[tuple[int, bool], int],
    rejected: Iterable[tuple[int, int, int, list[dict[str, Any]] | None]],
    company_id: str = "",
    spec: Spec | None = None,
    examples: int = 3,
) -> dict[str, Any]:
    """``counts``: (ipc code, accepted) -> records; ``rejected``: (ipc code, batch id, index in the
    batch, field errors) of every rejected record, in upload order."""
    spec = spec or get_spec()
    problems: dict[int, dict[tuple[str, str], dict[str, Any]]] = {}
    for code, batch, index, errors in rejected:
        iface = spec.by_ipc_code.get(code)
        if iface is None:
            continue
        groups = problems.setdefault(code, {})
        for error in errors or []:
            field, rule = str(error.get("field", "")), str(error.get("code", ""))
            group = groups.get((field, rule))
            if group is None:
                group = groups[(field, rule)] = {"field": field, "code": rule, "count": 0, "examples": []}
            group["count"] += 1
            if len(group["examples"]) < examples:
                value = error.get("value")
                group["examples"].append(
                    {
                        "batch": batch,
                        "index": index,
                        "value": display_value(value, iface, field),
                        "message": str(error.get("message", "")),
                        "hint": error.get("hint")
                        or fix_hint(iface, field, rule, value, company_id=company_id),
                    }
                )
    rows = []
    for category in spec.categories:
        for type_name in category.interface_types:
            iface = spec.interfaces[type_name]
            code = iface.ipc_type_code
            accepted = counts.get((code, True), 0)
            bad = counts.get((code, False), 0)
            received = accepted + bad
            status = NOT_RECEIVED if received == 0 else (FAIL if bad else PASS)
            field_order = {name: i for i, name in enumerate(iface.field_map)}
            found = sorted(
                problems.get(code, {}).values(),
                key=lambda g: (field_order.get(g["field"], len(field_order)), g["field"], g["code"]),
            )
            rows.append(
                {
                    "type": type_name,
                    "ipc": code,
                    "ipc_hex": iface.ipc_type_hex,
                    "name_zh": iface.name_zh,
                    "category": category.key,
                    "path": iface.http_path,
                    "status": status,
                    "received": received,
                    "accepted": accepted,
                    "rejected": bad,
                    "problems": found,
                }
            )
    summary = {
        "interfaces": len(rows),
        PASS: sum(r["status"] == PASS for r in rows),
        FAIL: sum(r["status"] == FAIL for r in rows),
        NOT_RECEIVED: sum(r["status"] == NOT_RECEIVED for r in rows),
    }
    return {
        "test": "connectivity",
        "spec_version": spec.version,
        "passed": summary[PASS] == len(rows),
        "summary": summary,
        "interfaces": rows,
    }


def connectivity_report(cycle_id: int, *, company_id: str = "", examples: int = 3) -> dict[str, Any]:
    """The test sheet of a stored cycle (two queries: counts, then the rejected records)."""
    from django.db.models import Count

    from yunzheng.conformance.models import SandboxRecord

    records = SandboxRecord.objects.filter(cycle_id=cycle_id)
    counts = {
        (row["interface"], row["accepted"]): row["n"]
        for row in records.values("interface", "accepted").annotate(n=Count("id")).order_by()
    }
    rejected = (
        records.filter(accepted=False)
        .order_by("pk")
        .values_list("interface", "batch_id", "position", "errors")
        .iterator(chunk_size=2000)
    )
    return build_connectivity_report(
        counts=counts, rejected=rejected, company_id=company_id, examples=examples
    )
