"""Login through ProConnect (OpenID Connect), when the deployment is configured for it and the person's
prefecture turned it on (guichet.accounts.proconnect says who may).

The flow is mozilla-django-oidc's views: `proconnect_login` sends the browser to the provider (state,
nonce, PKCE kept in the session), the provider sends it back to `proconnect_callback` (outside the language
prefix: it is the address registered at the provider). There, instead of opening a session at once, the
person goes on to Guichet's second factor, unless the ID token says the provider checked one.
"""

from django.conf import settings
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from guichet.accounts.proconnect import REFUSAL_KEY, REFUSALS

from .auth import PENDING_NEXT, begin_second_factor, finish_login, safe_next


def _require_enabled() -> None:
    if not settings.PROCONNECT_ENABLED:
        raise Http404("ProConnect is not configured")


# The language of the page the person started from: the callback has none in its address.
LANGUAGE_KEY = "guichet_proconnect_language"


class ProConnectLogin(OIDCAuthenticationRequestView):
    def get(self, request):
        _require_enabled()
        request.session[LANGUAGE_KEY] = translation.get_language()
        return super().get(request)


class ProConnectCallback(OIDCAuthenticationCallbackView):
    def get(self, request):
        _require_enabled()
        language = request.session.get(LANGUAGE_KEY) or translation.get_language()
        with translation.override(language):
            return super().get(request)

    def login_success(self):
        request, user = self.request, self.user
        next_url = safe_next(request, request.session.pop("oidc_login_next", None))
        if getattr(user, "proconnect_second_factor", False):
            request.session[PENDING_NEXT] = next_url
            return redirect(finish_login(request, user))
        return begin_second_factor(request, user, next_url)

    def login_failure(self):
        reason = self.request.session.pop(REFUSAL_KEY, "")
        # Worded now, in the language of the page the person started from: the message is stored after
        # this view's language is gone.
        message = REFUSALS.get(reason) or _(
            "The login with ProConnect did not succeed. Try again, or log in with your password."
        )
        messages.error(self.request, str(message))
        return redirect("backoffice:login")


proconnect_login = never_cache(ProConnectLogin.as_view())
proconnect_callback = never_cache(ProConnectCallback.as_view())
