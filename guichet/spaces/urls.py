from django.urls import path

from . import views

app_name = "spaces"

urlpatterns = [
    path("r/<str:reference>/<str:token>/space/", views.space, name="space"),
]
