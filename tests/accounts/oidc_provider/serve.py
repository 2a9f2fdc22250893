"""Start the local OpenID Connect provider: migrate its database, make its signing key, its client (Guichet)
and its users, then serve on 127.0.0.1:<port> until killed.

    OIDC_PROVIDER_DB=/tmp/op.sqlite3 OIDC_PROVIDER_URL=http://127.0.0.1:8450 \\
        python -m tests.accounts.oidc_provider.serve 8450 '<json setup>'

The JSON gives {"client_id", "client_secret", "redirect_uri", "users": [[username, password, email], …]}.
"""

import json
import os
import sys

import django


def main(port: int, setup: dict) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.accounts.oidc_provider.settings")
    django.setup()
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.core.servers.basehttp import run
    from django.core.wsgi import get_wsgi_application
    from oidc_provider.models import Client, ResponseType, RSAKey

    call_command("migrate", verbosity=0)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    RSAKey.objects.create(key=pem.decode())
    client = Client.objects.create(
        name="Guichet",
        client_type="confidential",
        client_id=setup["client_id"],
        client_secret=setup["client_secret"],
        jwt_alg="RS256",
        require_consent=False,
        reuse_consent=True,
    )
    client.redirect_uris = [setup["redirect_uri"]]
    client.save()
    client.response_types.add(ResponseType.objects.get(value="code"))
    for username, password, email in setup["users"]:
        get_user_model().objects.create_user(username, email=email, password=password)
    run("127.0.0.1", port, get_wsgi_application(), threading=True)


if __name__ == "__main__":
    main(int(sys.argv[1]), json.loads(sys.argv[2]))
