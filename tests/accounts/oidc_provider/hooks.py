"""What the local provider says of its users, as ProConnect would."""


def userinfo(claims, user):
    claims["email"] = user.email
    claims["given_name"] = user.first_name
    claims["family_name"] = user.last_name
    return claims


def authentication_methods(id_token, user, token, request, **kwargs):
    """ProConnect reports how the agent authenticated in `amr`; here an account whose name starts with
    "mfa-" stands for one that passed a second factor at its identity provider."""
    id_token["amr"] = ["pwd", "otp", "mfa"] if user.username.startswith("mfa-") else ["pwd"]
    return id_token
