"""Evidence pages, under the language prefix (/fr/…, /ar/…). The court-order pages are the back office's."""

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
]
