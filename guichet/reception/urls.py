"""Reception and counter pages, under /<lang>/staff/ beside the back office's (same converters)."""

from django.urls import path

from guichet.backoffice import urls as backoffice_urls  # noqa: F401 — registers the dept and ref converters

from . import views, views_file

app_name = "reception"

urlpatterns = [
    path("<dept:code>/reception/", views.home, name="home"),
    path("<dept:code>/reception/sites/<int:site_id>/", views.desk, name="desk"),
    path("<dept:code>/reception/appointments/<int:appointment_id>/", views.identity, name="identity"),
    path("<dept:code>/reception/appointments/<int:appointment_id>/no-show/", views.no_show, name="no_show"),
    path("<dept:code>/reception/tickets/<int:visit_id>/", views.ticket, name="ticket"),
    path("<dept:code>/counters/<int:counter_id>/", views.counter_desk, name="counter"),
    path("<dept:code>/counters/<int:counter_id>/act/", views.counter_action, name="counter_action"),
    path(
        "<dept:code>/counters/<int:counter_id>/tickets/<int:visit_id>/file/",
        views.record_file,
        name="record_file",
    ),
    path("<dept:code>/figures/day/", views.day_figures, name="day_figures"),
    path("<dept:code>/interim/expiring/", views.expiring, name="expiring"),
    path("requests/<ref:reference>/file/", views_file.file_page, name="file"),
    path("requests/<ref:reference>/identity/", views_file.identity_change, name="identity_change"),
]
