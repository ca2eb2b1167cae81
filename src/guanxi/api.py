"""The JSON API under /api/v1/: OpenAPI at /api/v1/openapi.json, interactive docs at /api/v1/docs."""

from __future__ import annotations

from ninja import NinjaAPI

from guanxi.accounts.api import router as accounts_router
from guanxi.core.api import ActiveSessionAuth, BearerTokenAuth, StrictJSONParser, install_error_handlers
from guanxi.customers.api import router as customers_router
from guanxi.dataio.api import router as dataio_router
from guanxi.engagement.api import router as engagement_router
from guanxi.followup.api import router as followup_router
from guanxi.pipeline.api import router as pipeline_router
from guanxi.relations.api import router as relations_router
from guanxi.sales.api import router as sales_router
from guanxi.search.api import router as search_router
from guanxi.service.api import router as service_router
from guanxi.value.api import router as value_router

api = NinjaAPI(
    title="Guanxi API",
    version="1",
    description=(
        "Guanxi (关系) CRM. Authenticate with a session cookie (send the CSRF token in `X-CSRFToken` on "
        "writes) or a personal API token: `Authorization: Bearer gx_…` "
        "(create one with `guanxi token USER`). "
        'Errors always have the shape `{"error": {"code", "message", "message_zh", "message_en", "field", '
        '"details"}}`. Objects outside your scope answer 404.'
    ),
    auth=[BearerTokenAuth(), ActiveSessionAuth()],
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
    parser=StrictJSONParser(),
)
install_error_handlers(api)
api.add_router("", accounts_router)
api.add_router("", customers_router)
api.add_router("", engagement_router)
api.add_router("", followup_router)
api.add_router("", sales_router)
api.add_router("", search_router)
api.add_router("", relations_router)
api.add_router("", value_router)
api.add_router("", service_router)
api.add_router("", pipeline_router)
api.add_router("", dataio_router)
