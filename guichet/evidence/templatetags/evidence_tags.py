"""Template tags of the evidence app: the court-order alert banner that every staff page can show."""

from django import template

from guichet.evidence.court_orders import court_order_alerts

register = template.Library()


@register.inclusion_tag("evidence/_court_alerts.html", takes_context=True)
def court_alerts_banner(context):
    """`{% load evidence_tags %}{% court_alerts_banner %}` on any staff page (needs `request` in context)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    return {"court_alerts": court_order_alerts(user) if user is not None else []}


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if hasattr(mapping, "get") else None
