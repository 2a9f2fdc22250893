from django.conf import settings


def skin(request):
    return {"skin": settings.GUICHET_SKIN, "site_url": settings.SITE_URL}
