"""Template tags of the public pages: skin classes and assets, the language switcher, accessible fields."""

from django import forms, template
from django.conf import settings
from django.templatetags.static import static
from django.urls import translate_url
from django.utils.html import format_html, format_html_join
from django.utils.translation import get_language, get_language_info

from guichet.public import skins

register = template.Library()


@register.simple_tag
def ui(role: str) -> str:
    """The class names of a semantic role in the current skin."""
    return skins.css_class(role)


@register.simple_tag
def skin_stylesheets():
    return format_html_join(
        "\n",
        '<link rel="stylesheet" href="{}">',
        ((static(path),) for path in skins.STYLESHEETS[skins.current()]),
    )


@register.simple_tag
def skin_favicon():
    return format_html('<link rel="icon" href="{}" type="image/svg+xml">', static(skins.FAVICONS[skins.current()]))


@register.simple_tag
def skin_scripts():
    return format_html_join(
        "\n", '<script src="{}" defer></script>', ((static(path),) for path in skins.SCRIPTS[skins.current()])
    )


@register.simple_tag(takes_context=True)
def language_links(context) -> list[dict]:
    """Every language with the address of the current page in it (the path is kept, the prefix changes)."""
    request = context.get("request")
    path = request.get_full_path() if request is not None else "/"
    current = get_language()
    links = []
    for code, name in settings.LANGUAGES:
        info = get_language_info(code)
        links.append(
            {
                "code": code,
                "name": name,
                "url": translate_url(path, code),
                "current": code == current,
                "bidi": info["bidi"],
            }
        )
    return links


@register.simple_tag
def current_language_name() -> str:
    return dict(settings.LANGUAGES).get(get_language(), get_language())


@register.filter
def widget_kind(field) -> str:
    widget = field.field.widget
    if isinstance(widget, forms.RadioSelect):
        return "radios"
    if isinstance(widget, forms.CheckboxSelectMultiple):
        return "checkboxes"
    if isinstance(widget, forms.CheckboxInput):
        return "checkbox"
    if isinstance(widget, forms.MultiWidget):
        return "multi"
    if isinstance(widget, forms.Select):
        return "select"
    if isinstance(widget, forms.HiddenInput):
        return "hidden"
    return "input"


@register.filter
def first_input_id(field) -> str:
    """The id an error summary links to: the field's own input, or the first of its choices."""
    kind = widget_kind(field)
    if kind in {"radios", "checkboxes"}:
        subwidgets = list(field.subwidgets)
        if subwidgets:
            return subwidgets[0].id_for_label
    if kind == "multi":
        return f"{field.auto_id}_0"
    return field.id_for_label or field.auto_id


def _describedby(field) -> str:
    ids = []
    if field.help_text:
        ids.append(f"{field.auto_id}-hint")
    if field.errors:
        ids.append(f"{field.auto_id}-error")
    return " ".join(ids)


@register.simple_tag
def render_widget(field, **extra):
    """The field's widget with the skin's classes, aria-invalid and aria-describedby for hint and error."""
    kind = widget_kind(field)
    attrs = dict(extra)
    if kind == "select":
        attrs.setdefault("class", skins.css_class("select_error" if field.errors else "select"))
    elif kind in {"input", "multi"}:
        attrs.setdefault("class", skins.css_class("input_error" if field.errors else "input"))
    if field.errors:
        attrs["aria-invalid"] = "true"
    describedby = _describedby(field)
    if describedby and kind not in {"radios", "checkboxes"}:
        attrs["aria-describedby"] = describedby
    return field.as_widget(attrs=attrs)


@register.simple_tag
def render_choice(subwidget):
    """One radio button or checkbox of a list, without its label (the template writes the label)."""
    return subwidget.tag(wrap_label=False)


@register.simple_tag
def describedby(field) -> str:
    return _describedby(field)


@register.filter
def with_prefix(value, prefix: str) -> str:
    return format_html("{}{}", prefix, value)


@register.simple_tag
def skin_name() -> str:
    return skins.current()


@register.simple_tag
def skin_template(part: str) -> str:
    """The skin's version of a page part (header, footer): skins/<skin>/<part>.html."""
    return f"skins/{skins.current()}/{part}.html"


# Long dates with the weekday, in the order each language writes them (Django's own formats lack the weekday).
LONG_DATE_FORMATS = {"zh-hans": "Y年n月j日 l", "en": "l j F Y"}


@register.filter(expects_localtime=True)
def long_date(value) -> str:
    from django.utils.dateformat import format as date_format

    if not value:
        return ""
    return date_format(value, LONG_DATE_FORMATS.get(get_language(), "l j F Y"))


@register.filter(expects_localtime=True)
def time_of_day(value) -> str:
    from django.utils.dateformat import format as date_format

    return date_format(value, "H:i") if value else ""
