"""Which languages a page is offered in.

Applicant pages exist in every language of settings.LANGUAGES. Staff pages (everything under
/<lang>/staff/: the back office, partner pages, court orders) exist in settings.STAFF_LANGUAGES only: the
prefecture's working language and English. Under any other prefix (/ar/staff/…) they are shown in the
first staff language, and marked so (lang="fr" dir="ltr"), rather than as French or English text inside a
right-to-left page that claims to be Arabic.
"""

from django.conf import settings
from django.utils import translation

STAFF_SEGMENT = "staff"


def is_staff_path(path: str) -> bool:
    """Whether `path` is a staff page: /<language>/staff/…"""
    parts = path.split("/", 3)
    return len(parts) >= 3 and parts[2] == STAFF_SEGMENT and parts[1] in dict(settings.LANGUAGES)


def languages_for(path: str) -> list[tuple[str, str]]:
    """The (code, name) pairs a page at `path` is offered in."""
    if is_staff_path(path):
        return [(code, name) for code, name in settings.LANGUAGES if code in settings.STAFF_LANGUAGES]
    return list(settings.LANGUAGES)


class StaffLanguageMiddleware:
    """After LocaleMiddleware: a staff page asked for in a language it does not exist in is served in the
    first staff language (links on it then point to that language's addresses).

    Switched in process_view, once the address is resolved: i18n_patterns match the prefix of the active
    language, so /ar/staff/… must still be resolved in Arabic.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if is_staff_path(request.path_info) and translation.get_language() not in settings.STAFF_LANGUAGES:
            language = settings.STAFF_LANGUAGES[0]
            translation.activate(language)
            request.LANGUAGE_CODE = language
        return None
