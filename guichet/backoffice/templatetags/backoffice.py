"""Template helpers of the back office: the navigation for the logged-in account, and form fields."""

from django import template

from guichet.accounts import permissions
from guichet.evidence.court_orders import court_order_alerts

register = template.Library()


@register.inclusion_tag("backoffice/_nav.html", takes_context=True)
def staff_nav(context):
    request = context.get("request")
    user = getattr(request, "user", None)
    verified = bool(
        user is not None and user.is_authenticated and request.session.get(permissions.SESSION_2FA_KEY)
    )
    prefectures = list(permissions.prefectures_for(user)) if verified else []
    current = context.get("prefecture") or (prefectures[0] if prefectures else None)
    if current is not None and current not in prefectures:
        current = prefectures[0] if prefectures else None
    admin_of = {p.pk for p in permissions.prefectures_for(user, "prefecture_admin")} if verified else set()
    manager_of = {p.pk for p in permissions.prefectures_for(user, "manager")} if verified else set()
    return {
        "request": request,
        "verified": verified,
        "user": user,
        "prefectures": prefectures,
        "current": current,
        "is_admin": current is not None and current.pk in admin_of,
        "is_manager": current is not None and current.pk in manager_of,
        "is_platform_admin": verified and permissions.is_platform_admin(user),
        "member": permissions.partner_member(user) if verified else None,
        "court_alerts": _court_alerts(user) if prefectures else [],
    }


def _court_alerts(user) -> list:
    """Open court-order alerts of the user's prefectures, as a banner on every staff page."""
    return list(court_order_alerts(user))


@register.inclusion_tag("backoffice/_field.html")
def field(bound_field, **attrs):
    """Label, hint, error and widget of one field; extra attributes (autofocus=True) go on the widget."""
    if attrs:
        bound_field.field.widget.attrs.update(attrs)
    return {"field": bound_field}


@register.inclusion_tag("backoffice/_form_errors.html")
def form_errors(form):
    return {"form": form}
