"""The two skins: one set of semantic templates, two sets of class names and stylesheets.

`neutral` (default) is our own small stylesheet with system fonts and no State marks. `dsfr` is the State
design system, from the files django-dsfr ships, reserved to State services by its terms of use. Only the
DSFR modules the pages use are linked (not the whole 90 KB bundle), and no DSFR JavaScript: every page
works without JavaScript, and the whole first load stays under 150 KB compressed.
"""

from django.conf import settings

DSFR = "dsfr/dist/"

STYLESHEETS: dict[str, list[str]] = {
    "neutral": ["guichet/neutral.css"],
    "dsfr": [
        DSFR + "core/core.main.min.css",
        *(
            f"{DSFR}component/{name}/{name}.main.min.css"
            for name in (
                "skiplink",
                "header",
                "logo",
                "footer",
                "button",
                "form",
                "input",
                "select",
                "radio",
                "checkbox",
                "alert",
                "callout",
            )
        ),
        "guichet/dsfr.css",
    ],
}

FAVICONS: dict[str, str] = {
    "neutral": "guichet/favicon.svg",
    "dsfr": DSFR + "favicon/favicon.svg",
}

SCRIPTS: dict[str, list[str]] = {
    "neutral": ["guichet/enhance.js"],
    "dsfr": ["guichet/enhance.js"],
}

# The font files a first load may fetch (the page-weight test counts them; the browser test checks that
# no other font is fetched). guichet/dsfr.css keeps the pages to these two weights.
FONT_FILES: dict[str, list[str]] = {
    "neutral": [],
    "dsfr": [DSFR + "fonts/Marianne-Regular.woff2", DSFR + "fonts/Marianne-Bold.woff2"],
}

# Semantic role → class names. Templates ask for a role ({% ui "button" %}), never for a skin's class.
CLASSES: dict[str, dict[str, str]] = {
    "neutral": {
        "container": "container",
        "button": "btn",
        "button_secondary": "btn btn-secondary",
        "button_tertiary": "btn btn-tertiary",
        "button_danger": "btn btn-danger",
        "buttons": "btn-group",
        "field": "field",
        "field_error": "field field-error",
        "select_field": "field",
        "select_field_error": "field field-error",
        "label": "label",
        "hint": "hint",
        "error_text": "error-text",
        "input": "input",
        "input_error": "input input-error",
        "select": "input select",
        "select_error": "input select input-error",
        "fieldset": "fieldset",
        "fieldset_error": "fieldset fieldset-error",
        "legend": "legend",
        "fieldset_element": "fieldset-element",
        "radio": "choice",
        "checkbox": "choice",
        "alert_error": "alert alert-error",
        "alert_info": "alert alert-info",
        "alert_success": "alert alert-success",
        "alert_warning": "alert alert-warning",
        "alert_title": "alert-title",
        "callout": "callout",
        "callout_title": "callout-title",
        "link": "",
        "link_back": "link-back",
        "lead": "lead",
        "small": "small",
        "card": "card",
        "table": "table",
        "tag": "tag",
    },
    "dsfr": {
        "container": "fr-container fr-my-4w",
        "button": "fr-btn",
        "button_secondary": "fr-btn fr-btn--secondary",
        "button_tertiary": "fr-btn fr-btn--tertiary",
        "button_danger": "fr-btn fr-btn--secondary gc-danger",
        "buttons": "gc-btn-group",
        "field": "fr-input-group",
        "field_error": "fr-input-group fr-input-group--error",
        "select_field": "fr-select-group",
        "select_field_error": "fr-select-group fr-select-group--error",
        "label": "fr-label",
        "hint": "fr-hint-text",
        "error_text": "fr-error-text",
        "input": "fr-input",
        "input_error": "fr-input fr-input--error",
        "select": "fr-select",
        "select_error": "fr-select fr-select--error",
        "fieldset": "fr-fieldset",
        "fieldset_error": "fr-fieldset fr-fieldset--error",
        "legend": "fr-fieldset__legend",
        "fieldset_element": "fr-fieldset__element",
        "radio": "fr-radio-group",
        "checkbox": "fr-checkbox-group",
        "alert_error": "fr-alert fr-alert--error",
        "alert_info": "fr-alert fr-alert--info",
        "alert_success": "fr-alert fr-alert--success",
        "alert_warning": "fr-alert fr-alert--warning",
        "alert_title": "fr-alert__title",
        "callout": "fr-callout",
        "callout_title": "fr-callout__title",
        "link": "",
        "link_back": "link-back",
        "lead": "fr-text--lead",
        "small": "fr-text--sm",
        "card": "gc-card",
        "table": "gc-table",
        "tag": "gc-tag",
    },
}


def current() -> str:
    return settings.GUICHET_SKIN if settings.GUICHET_SKIN in CLASSES else "neutral"


def css_class(role: str) -> str:
    return CLASSES[current()].get(role, "")
