"""A real OpenID Connect provider for the ProConnect tests: django-oidc-provider in a Django project of its
own, run as a separate process on 127.0.0.1 (serve.py), with its own SQLite database. It stands where
ProConnect stands in production: the test's browser logs in there, and Guichet talks to it over HTTP
(token, JWKS and userinfo endpoints)."""
