"""Addresses without a language prefix: the JWK set that verifies every proof ever issued."""

from django.urls import path

from . import views

urlpatterns = [
    path(".well-known/jwks.json", views.jwks, name="jwks"),
]
