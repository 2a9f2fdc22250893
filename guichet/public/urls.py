"""The applicant's pages. Every address carries the language (/fr/…, /ar/…): i18n_patterns in guichet/urls.py.

A request's own pages live under r/<reference>/<token>/, where <token> is the secret access token given at
filing or a short-lived signed key given after a look-up by reference and birth date (access.py).
"""

from django.urls import path

from .views import appointment, filing, info, offers, status, verify, your_data

app_name = "public"


def _request_page(route: str, view, name: str):
    return path(f"r/<str:reference>/<str:token>/{route}", view, name=name)


request_patterns = [
    _request_page("", status.request_page, "status_by_link"),
    _request_page("received/", filing.received, "received"),
    _request_page("offers/<int:offer_id>/accept/", offers.accept, "offer_accept"),
    _request_page("offers/<int:offer_id>/decline/", offers.decline, "offer_decline"),
    _request_page("offers/<int:offer_id>/another/", offers.another, "offer_another"),
    _request_page("slots/", offers.open_slots, "open_slots"),
    _request_page("appointment/", appointment.detail, "appointment"),
    _request_page("appointment/convocation.pdf", appointment.convocation_pdf, "convocation_pdf"),
    _request_page("appointment/calendar.ics", appointment.calendar, "appointment_ics"),
    _request_page("appointment/cancel/", appointment.cancel, "appointment_cancel"),
    _request_page("reactivate/", status.reactivate, "reactivate"),
    _request_page("contact/", status.contact, "contact"),
    _request_page("language/", status.language, "language"),
    _request_page("withdraw/", status.withdraw, "withdraw"),
    _request_page("your-data/", your_data.page, "your_data"),
    _request_page("your-data/data.json", your_data.as_json, "your_data_json"),
    _request_page("your-data/data.pdf", your_data.as_pdf, "your_data_pdf"),
]

urlpatterns = [
    path("", info.home, name="home"),
    path("procedures/", info.procedures, name="procedures"),
    path("procedures/<str:prefecture>/<slug:code>/", info.procedure, name="procedure"),
    path("procedures/<str:prefecture>/<slug:code>/request/", filing.file, name="file"),
    path("status/", status.lookup, name="status_lookup"),
    *request_patterns,
    path("convocation/", verify.form, name="verify_convocation_form"),
    path("convocation/<str:reference>/", verify.from_code, name="verify_convocation"),
    path("convocation/<str:reference>/<int:appointment>/", verify.from_code, name="verify_convocation_of"),
    path("accessibility/", info.accessibility, name="accessibility"),
    path("legal/", info.legal, name="legal"),
    path("privacy/", info.privacy, name="privacy"),
    path("free-service/", info.free_service, name="free_service"),
    path("figures/", info.figures, name="figures"),
    path("figures/<str:prefecture>/", info.figures, name="figures_of"),
    path("figures/<str:prefecture>/weekly.csv", info.figures_csv, name="figures_csv"),
    path("figures/<str:prefecture>/<slug:procedure>/", info.figures, name="figures_of_procedure"),
    path(
        "figures/<str:prefecture>/<slug:procedure>/weekly.csv",
        info.figures_csv,
        name="figures_csv_of_procedure",
    ),
]
