"""Template tags of the public pages: skin classes and assets, the language switcher, accessible fields."""

from urllib.parse import urlsplit, urlunsplit

from django import forms, template
from django.conf import settings
from django.forms.utils import flatatt
from django.templatetags.static import static
from django.urls import Resolver404, resolve, reverse
from django.urls.exceptions import NoReverseMatch
from django.utils import translation
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, get_language_info
from django.utils.translation import gettext as _

from guichet import dates
from guichet.languages import languages_for
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
    return format_html(
        '<link rel="icon" href="{}" type="image/svg+xml">', static(skins.FAVICONS[skins.current()])
    )


@register.simple_tag
def skin_scripts():
    return format_html_join(
        "\n", '<script src="{}" defer></script>', ((static(path),) for path in skins.SCRIPTS[skins.current()])
    )


def _translated_paths(path: str, match=None) -> dict[str, str]:
    """The current page's address in every language: resolved once (or `match`, the request's own
    resolution), reversed per language (what django.urls.translate_url does, without resolving the path
    again for each language)."""

    parts = urlsplit(path)
    if match is None:
        try:
            match = resolve(parts.path)
        except Resolver404:
            match = None
    paths = {}
    for code, _name in settings.LANGUAGES:
        translated = None
        if match is not None:
            with translation.override(code):
                try:
                    translated = reverse(
                        match._func_path if not match.url_name else match.view_name,
                        args=match.args,
                        kwargs=match.kwargs,
                    )
                except NoReverseMatch:
                    translated = None
        if translated is None:
            with translation.override(code):
                translated = reverse("public:home")
        paths[code] = urlunsplit(("", "", translated, parts.query, parts.fragment))
    return paths


@register.simple_tag(takes_context=True)
def language_links(context) -> list[dict]:
    """Every language with the address of the current page in it (the path is kept, the prefix changes)."""
    request = context.get("request")
    current = get_language()
    path = request.get_full_path() if request is not None else "/"
    # A staff page under /ar/staff/ is shown in French: its own resolution, not the French one, finds it.
    paths = _translated_paths(path, getattr(request, "resolver_match", None))
    links = []
    for code, name in languages_for(path):
        links.append(
            {
                "code": code,
                "name": name,
                "url": paths[code],
                "current": code == current,
                "bidi": get_language_info(code)["bidi"],
            }
        )
    return links


@register.simple_tag
def current_language_name() -> str:
    return dict(settings.LANGUAGES).get(get_language(), get_language())


@register.filter
def widget_kind(field) -> str:
    widget = field.field.widget
    # CheckboxSelectMultiple is a subclass of RadioSelect: test it first.
    if isinstance(widget, forms.CheckboxSelectMultiple):
        return "checkboxes"
    if isinstance(widget, forms.RadioSelect):
        return "radios"
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
    if kind == "select" and not isinstance(field.field.widget, forms.SelectMultiple):
        fast = _select_html(field, attrs)
        if fast is not None:
            return fast
    if kind == "input" and field.field.widget.template_name in _PLAIN_TEMPLATES:
        return _input_html(field, attrs)
    return field.as_widget(attrs=attrs)


# Widgets whose template is Django's plain <input> or <textarea>: written directly (see _select_html).
_PLAIN_TEMPLATES = {
    "django/forms/widgets/input.html",
    "django/forms/widgets/text.html",
    "django/forms/widgets/email.html",
    "django/forms/widgets/date.html",
    "django/forms/widgets/textarea.html",
    "django/forms/widgets/number.html",
    "django/forms/widgets/url.html",
    "django/forms/widgets/password.html",
}


def _input_html(field, attrs: dict):
    widget = field.field.widget
    context = widget.get_context(field.html_name, field.value(), field.build_widget_attrs(attrs, widget))[
        "widget"
    ]
    final = {"id": field.auto_id, **context["attrs"]} if field.auto_id else context["attrs"]
    if widget.template_name.endswith("textarea.html"):
        value = context["value"] if context["value"] is not None else ""
        return format_html('<textarea name="{}"{}>\n{}</textarea>', context["name"], flatatt(final), value)
    if context["value"] is None:
        return format_html('<input type="{}" name="{}"{}>', context["type"], context["name"], flatatt(final))
    return format_html(
        '<input type="{}" name="{}" value="{}"{}>',
        context["type"],
        context["name"],
        context["value"],
        flatatt(final),
    )


def _select_html(field, attrs: dict):
    """A plain <select> written directly: Django renders each <option> through a template, which costs
    tens of milliseconds for the 250 nationalities. None for grouped choices (left to Django)."""
    choices = field.field.widget.choices
    widget = field.field.widget
    final = widget.build_attrs(widget.attrs, {**attrs, "name": field.html_name, "id": field.auto_id})
    value = field.value()
    values = value if isinstance(value, (list, tuple)) else [value]
    selected = tuple(sorted(str(item) for item in values if item is not None))
    options = _options_html(field.html_name, get_language(), selected, choices)
    if options is None:
        return None
    return format_html("<select{}>{}</select>", flatatt(final), options)


_OPTIONS_CACHE: dict[tuple, str] = {}


def _options_html(name: str, language: str, selected: tuple, choices) -> str | None:
    # Long lists (countries) are the same on every page in a language: written once per language and
    # selected value. The key includes the choices' size and ends so that another list never matches.
    choices = list(choices)
    if any(isinstance(label, (list, tuple)) for _value, label in choices):
        return None
    signature = (
        name,
        language,
        selected,
        len(choices),
        str(choices[0][0]) if choices else "",
        str(choices[-1][0]) if choices else "",
    )
    if len(choices) >= 50 and signature in _OPTIONS_CACHE:
        return _OPTIONS_CACHE[signature]
    chosen = mark_safe(" selected")
    html = format_html_join(
        "",
        '<option value="{}"{}>{}</option>',
        ((choice, chosen if str(choice) in selected else "", label) for choice, label in choices),
    )
    if len(choices) >= 50:
        if len(_OPTIONS_CACHE) > 500:
            _OPTIONS_CACHE.clear()
        _OPTIONS_CACHE[signature] = html
    return html


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


@register.filter(expects_localtime=True)
def long_date(value) -> str:
    """The long date of guichet/dates.py, the same as in messages and letters."""
    return dates.long_date(value) if value else ""


@register.filter(expects_localtime=True)
def time_of_day(value) -> str:
    return ltr(dates.clock_time(value)) if value else ""


@register.filter
def ltr(value) -> str:
    """A left-to-right token (reference, time, phone number) kept whole in right-to-left text.

    See guichet.bidi, which does the same for plain text."""
    return format_html('<bdi dir="ltr">{}</bdi>', value) if value not in (None, "") else ""


def _choice_input(subwidget) -> str:
    data = subwidget.data
    attrs = {key: value for key, value in data["attrs"].items() if value is not False}
    return format_html(
        '<input type="{}" name="{}" value="{}"{}>', data["type"], data["name"], data["value"], flatatt(attrs)
    )


@register.simple_tag
def render_field(field, optional_marks: bool = False):
    """A whole field in the skin's markup: label with its hint, the widget, the error tied by
    aria-describedby; radio buttons and checkbox lists in a fieldset whose legend is the label.

    Written in Python rather than as an included template: the intake form has twenty fields, and the
    template version cost more than the rest of the page.
    """
    kind = widget_kind(field)
    if kind == "hidden":
        return field.as_widget()
    classes = skins.CLASSES[skins.current()]
    hint = (
        format_html(
            '<span class="{}" id="{}-hint">{}</span>', classes["hint"], field.auto_id, field.help_text
        )
        if field.help_text
        else ""
    )
    error = (
        format_html(
            '<p class="{}" id="{}-error">{}</p>', classes["error_text"], field.auto_id, " ".join(field.errors)
        )
        if field.errors
        else ""
    )
    optional = format_html(' <span class="optional">{}</span>', _("(optional)"))
    if kind in {"radios", "checkboxes"}:
        describedby = _describedby(field)
        items = format_html_join(
            "\n",
            '<div class="{}"><div class="{}">{}\n<label class="{}" for="{}">{}</label></div></div>',
            (
                (
                    classes["fieldset_element"],
                    classes["radio" if kind == "radios" else "checkbox"],
                    _choice_input(subwidget),
                    classes["label"],
                    subwidget.id_for_label,
                    subwidget.choice_label,
                )
                for subwidget in field.subwidgets
            ),
        )
        return format_html(
            '<fieldset class="{}" id="{}-group"{}>\n<legend class="{}">{}{}{}</legend>\n{}\n{}</fieldset>',
            classes["fieldset_error" if field.errors else "fieldset"],
            field.auto_id,
            format_html(' aria-describedby="{}"', describedby) if describedby else "",
            classes["legend"],
            field.label,
            optional if kind == "radios" and not field.field.required else "",
            hint,
            items,
            error,
        )
    if kind == "checkbox":
        return format_html(
            '<div class="{}"><div class="{}">{}\n<label class="{}" for="{}">{}{}</label></div>\n{}</div>',
            classes["fieldset_error" if field.errors else "fieldset"],
            classes["checkbox"],
            render_widget(field),
            classes["label"],
            field.id_for_label,
            field.label,
            hint,
            error,
        )
    if kind == "select":
        group = classes["select_field_error" if field.errors else "select_field"]
    else:
        group = classes["field_error" if field.errors else "field"]
    marked_optional = (
        optional_marks and not field.field.required and not field.field.widget.attrs.get("required")
    )
    return format_html(
        '<div class="{}">\n<label class="{}" for="{}">{}{}{}</label>\n{}\n{}</div>',
        group,
        classes["label"],
        field.id_for_label,
        field.label,
        optional if marked_optional else "",
        hint,
        render_widget(field),
        error,
    )
