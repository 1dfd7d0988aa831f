"""gunicorn's logger for yunzheng (`logger_class` in config/gunicorn.py): its access and error logs
go through the same personal-data masking as Django's (yunzheng.core.logging), and the access
log's atoms never carry a query string or a referer's, whatever `access_log_format` says."""

from __future__ import annotations

from typing import Any

from gunicorn.glogging import Logger

from yunzheng.core.logging import PersonalDataMaskingFilter, drop_query_strings


class MaskingLogger(Logger):
    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        self.masking = PersonalDataMaskingFilter()
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                if not any(isinstance(f, PersonalDataMaskingFilter) for f in handler.filters):
                    handler.addFilter(self.masking)

    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        atoms = super().atoms(resp, req, environ, request_time)
        atoms["q"] = ""  # the query string itself
        atoms["r"] = f"{atoms['m']} {atoms['U']} {atoms['H']}"  # the request line, path only
        atoms["f"] = drop_query_strings(atoms["f"])  # the referer
        for key in [k for k in atoms if k.startswith("{") and k[-2:] in ("}i", "}e")]:
            atoms[key] = drop_query_strings(str(atoms[key]))  # request headers, environ
        atoms["{query_string}e"] = ""
        return atoms
