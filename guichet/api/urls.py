from django.urls import path

from .routers import api

urlpatterns = [path("v1/", api.urls)]
