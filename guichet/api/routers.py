"""API v1: one NinjaAPI, each app contributes its router from its own `api.py`."""

from ninja import NinjaAPI

from guichet.edge import EdgeParser

from .errors import install_domain_error_handler, install_error_handlers, install_rate_limit_handler

api = NinjaAPI(
    title="Guichet API",
    version="1",
    description="Requests, offers, appointments and proofs. Errors are JSON: {code, message, fields}.",
    urls_namespace="api-v1",
    parser=EdgeParser(),
)
install_error_handlers(api)
install_domain_error_handler(api)
install_rate_limit_handler(api)

# Routers are added here, one per app, in the order their paths should appear in the OpenAPI document.

from guichet.api.requests_api import router as requests_router  # noqa: E402

api.add_router("", requests_router)

from guichet.api.appointments_api import router as appointments_router  # noqa: E402

api.add_router("", appointments_router)

from guichet.api.staff_api import router as staff_router  # noqa: E402

api.add_router("", staff_router)

from guichet.api.reception_api import router as reception_router  # noqa: E402

api.add_router("", reception_router)

from guichet.api.proofs_api import router as proofs_router  # noqa: E402

api.add_router("", proofs_router)

from guichet.api.dossiers_api import router as dossiers_router  # noqa: E402
from guichet.api.dossiers_api import staff_router as dossiers_staff_router  # noqa: E402

api.add_router("", dossiers_router)
api.add_router("", dossiers_staff_router)

from guichet.api.spaces_api import router as spaces_router  # noqa: E402

api.add_router("", spaces_router)
