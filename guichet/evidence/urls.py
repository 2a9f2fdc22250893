"""Evidence pages, under the language prefix (/fr/…, /ar/…); staff pages under staff/ like the back office."""

from django.urls import path

from . import views

app_name = "evidence"

urlpatterns = [
    path("verify/", views.verify, name="verify"),
    path("proofs/<int:pk>/", views.proof_page, name="proof"),
    path("proofs/<int:pk>.pdf", views.proof_pdf, name="proof_pdf"),
    path("proofs/<int:pk>.jws", views.proof_jws, name="proof_jws"),
    path("requests/<str:reference>/proofs/", views.request_proofs, name="request_proofs"),
    path("requests/<str:reference>/proofs.pdf", views.request_proofs_pdf, name="request_proofs_pdf"),
    path("requests/<str:reference>/court-file.pdf", views.court_file_pdf, name="court_file"),
    path("staff/court-orders/", views.court_order_list, name="court_orders"),
    path("staff/court-orders/<int:pk>/", views.court_order_detail, name="court_order"),
    path(
        "staff/court-orders/<int:pk>/extra-slot/", views.court_order_extra_slot, name="court_order_extra_slot"
    ),
    path("staff/court-orders/<int:pk>/case-end/", views.court_case_end, name="court_case_end"),
    path(
        "staff/court-orders/alerts/<int:pk>/resolve/", views.court_alert_resolve, name="court_alert_resolve"
    ),
    path("staff/requests/<str:reference>/court-orders/new/", views.court_order_new, name="court_order_new"),
]
