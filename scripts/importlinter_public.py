"""An import-linter contract: apps use each other only through their public modules.

Every module of `apps` other than the app's own may import only the modules named `public`
(relative to the app, such as ``services``: the module or package itself, not its sub-modules -
``licensing.services.booking`` is the package's business) or listed in `public_modules` (full
names; a trailing ``.**`` allows the descendants too). Tests (``*.tests.*``) are exempt: they may
use another app's factories and fixtures.

Configured in pyproject.toml ([tool.importlinter] contract_types); run by `make lint`.
"""

from __future__ import annotations

from typing import Any

import grimp
from importlinter.application import contract_utils, output
from importlinter.domain import fields
from importlinter.domain.contract import Contract, ContractCheck


class PublicModulesContract(Contract):
    type_name = "public_modules"

    apps = fields.ListField(subfield=fields.StringField())
    public = fields.ListField(subfield=fields.StringField())
    public_modules = fields.ListField(subfield=fields.StringField(), required=False)
    ignore_imports = fields.SetField(subfield=fields.ImportExpressionField(), required=False)

    def check(self, graph: grimp.ImportGraph, verbose: bool) -> ContractCheck:
        options: Any = self  # import-linter fills the fields in; typed loosely
        removal = contract_utils.remove_ignored_imports_and_report(
            graph=graph,
            ignore_imports=options.ignore_imports,
            unmatched_alerting=contract_utils.AlertLevel.ERROR,
        )
        apps: list[str] = list(options.apps)
        extra: list[str] = list(options.public_modules or [])
        allowed = {f"{app}.{name}" for app in apps for name in options.public}
        allowed |= {m.removesuffix(".**") for m in extra}
        prefixes = tuple(m.removesuffix("**") for m in extra if m.endswith(".**"))

        def app_of(module: str) -> str | None:
            return next((a for a in apps if module == a or module.startswith(a + ".")), None)

        illegal: list[tuple[str, str, list[int]]] = []
        for importer in sorted(graph.modules):
            source_app = app_of(importer)
            if source_app is None or ".tests" in importer:
                continue
            for imported in sorted(graph.find_modules_directly_imported_by(importer)):
                target_app = app_of(imported)
                if target_app in (None, source_app) or imported in allowed or imported.startswith(prefixes):
                    continue
                details = graph.get_import_details(importer=importer, imported=imported)
                illegal.append((importer, imported, [d["line_number"] for d in details]))
        return ContractCheck(
            kept=not illegal,
            warnings=list(removal.warnings),
            metadata={"illegal": illegal},
        )

    def render_broken_contract(self, check: ContractCheck) -> None:
        output.print_error("These imports reach into another app's internals:", bold=False)
        output.new_line()
        for importer, imported, lines in check.metadata["illegal"]:
            output.print_error(f"- {importer} -> {imported} (l.{', '.join(map(str, lines))})", bold=False)
        output.new_line()
