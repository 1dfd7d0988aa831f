"""The one NinjaAPI instance: mounted at /api/, routers under /api/v1/<prefix>/, docs at /api/docs.

This is the composition root for the API: add a line to ROUTERS when an app gains an API.
"""

from __future__ import annotations

from ninja import Router

from yunzheng.accounts.api import router as accounts_router
from yunzheng.alarms.api import router as alarms_router
from yunzheng.conformance.api import router as conformance_router
from yunzheng.core.api import PlatformAPI, install_error_handlers
from yunzheng.elicense.api import router as elicense_router
from yunzheng.exchange.api import router as exchange_router
from yunzheng.licensing.api import router as licensing_router
from yunzheng.practitioners.api import router as practitioners_router
from yunzheng.practitioners.verification_api import registry_router as office_registry_router
from yunzheng.practitioners.verification_api import router as verification_router
from yunzheng.registries.api import router as registries_router
from yunzheng.supervision.api import router as supervision_router
from yunzheng.web.api import router as platform_router

ROUTERS: list[tuple[str, Router]] = [
    ("platform", platform_router),
    ("auth", accounts_router),
    ("exchange", exchange_router),
    ("elicense", elicense_router),
    ("office", practitioners_router),
    ("office/verification-requests", verification_router),
    ("office/registry", office_registry_router),
    ("licensing", licensing_router),
    ("conformance", conformance_router),
    ("supervision", supervision_router),
    ("supervision/alarms", alarms_router),
    ("registries", registries_router),
]

api = PlatformAPI(
    title="yunzheng API",
    version="1",
    description="道路运政 platform API. Every error has the shape "
    "{error: {code, message, details: [{field, code, message}], request_id}}.",
    docs_url="/docs",
    openapi_url="/openapi.json",
    urls_namespace="api",
)
install_error_handlers(api)
for prefix, router in ROUTERS:
    api.add_router(f"/v1/{prefix}", router)
