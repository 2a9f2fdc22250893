"""Staff and partner pages, under /<lang>/staff/. Partner pages are under /<lang>/staff/partner/.

Pages about one prefecture carry its département code (/fr/staff/93/queue/); pages about one request carry
its reference (/fr/staff/requests/93-K7M4-QX9T/). Access is checked in every view (decorators.py).
"""

from django.urls import path, register_converter

from .views import (
    admin,
    affected,
    auth,
    capacity,
    catalogue,
    court_orders,
    jobs,
    letters,
    partners,
    passwords,
    proconnect,
    staff,
)


class _AsWritten:
    """A converter that passes its text through; subclasses give the pattern."""

    def to_python(self, value):
        return value

    def to_url(self, value):
        return str(value)


class ReferenceConverter(_AsWritten):
    regex = r"[0-9A-Za-z][0-9A-Za-z\-]{5,30}"


class DepartmentConverter(_AsWritten):
    regex = r"(?:\d{2}|2[AaBb]|97\d)"

    def to_python(self, value):
        return value.upper()


class CatalogueKindConverter(_AsWritten):
    regex = r"(?:site|counter|procedure|rule|closure)"


class DayConverter(_AsWritten):
    regex = r"\d{4}-\d{2}-\d{2}"


register_converter(ReferenceConverter, "ref")
register_converter(DepartmentConverter, "dept")
register_converter(DayConverter, "day")
register_converter(CatalogueKindConverter, "kind")

app_name = "backoffice"

urlpatterns = [
    # Accounts
    path("login/", auth.login_view, name="login"),
    path("login/verify/", auth.verify_view, name="verify"),
    path("login/setup/", auth.enrol_view, name="enrol"),
    path("login/proconnect/", proconnect.proconnect_login, name="proconnect_login"),
    path("logout/", auth.logout_view, name="logout"),
    path("account/", auth.account_view, name="account"),
    path("account/tokens/<int:token_id>/revoke/", auth.revoke_token_view, name="revoke_token"),
    path("account/password/", passwords.change_password_view, name="password_change"),
    path("account/authenticator/", passwords.reenrol_view, name="reenrol"),
    path("password/forgot/", passwords.forgot_view, name="password_forgot"),
    path("password/<str:uidb64>/<str:token>/", passwords.set_password_view, name="set_password"),
    # Staff
    path("", staff.home, name="home"),
    path("search/", staff.search, name="search"),
    path("requests/<ref:reference>/", staff.request_detail, name="request"),
    path("requests/<ref:reference>/receipt/", staff.receipt, name="receipt"),
    path("requests/<ref:reference>/contact/", staff.edit_contact, name="contact"),
    path("requests/<ref:reference>/vulnerability/", staff.vulnerability, name="vulnerability"),
    path("requests/<ref:reference>/close/", staff.close_request, name="close"),
    path(
        "requests/<ref:reference>/rights/<int:rights_id>/", staff.answer_rights_request, name="rights_answer"
    ),
    path("requests/<ref:reference>/impossibility/", staff.impossibility, name="impossibility"),
    path(
        "requests/<ref:reference>/appointments/<int:appointment_id>/cancel/",
        staff.cancel_appointment,
        name="cancel_appointment",
    ),
    path(
        "requests/<ref:reference>/appointments/<int:appointment_id>/move/",
        staff.move_appointment,
        name="move_appointment",
    ),
    path("requests/<ref:reference>/court-orders/new/", court_orders.court_order_new, name="court_order_new"),
    path("<dept:code>/intake/", staff.intake, name="intake"),
    path("<dept:code>/queue/", staff.queue, name="queue"),
    path("<dept:code>/letters/", letters.letters_page, name="letters"),
    path("<dept:code>/letters/print/", letters.letters_print, name="letters_print"),
    path("<dept:code>/letters/<day:day>/reprint/", letters.letters_reprint, name="letters_reprint"),
    path("<dept:code>/jobs/<int:job_id>/", jobs.job_page, name="job"),
    path("<dept:code>/jobs/<int:job_id>/status/", jobs.job_status, name="job_status"),
    path("<dept:code>/jobs/<int:job_id>/result/", jobs.job_result, name="job_result"),
    path("<dept:code>/jobs/<int:job_id>/retry/", jobs.job_retry, name="job_retry"),
    # Catalogue and capacity
    path("<dept:code>/capacity/", capacity.planning, name="capacity"),
    path("<dept:code>/affected/", affected.affected_page, name="affected"),
    path("<dept:code>/catalogue/", catalogue.catalogue, name="catalogue"),
    path("<dept:code>/catalogue/<kind:kind>/new/", catalogue.edit, name="catalogue_new"),
    path("<dept:code>/catalogue/<kind:kind>/<int:object_id>/", catalogue.edit, name="catalogue_edit"),
    path(
        "<dept:code>/catalogue/<kind:kind>/<int:object_id>/delete/",
        catalogue.delete,
        name="catalogue_delete",
    ),
    # Court orders (any staff member of the prefecture reads them; a manager records them)
    path("court-orders/", court_orders.court_order_list, name="court_orders"),
    path("court-orders/<int:pk>/", court_orders.court_order_detail, name="court_order"),
    path("court-orders/<int:pk>/extra-slot/", court_orders.court_order_extra_slot, name="court_order_slot"),
    path("court-orders/<int:pk>/case-end/", court_orders.court_case_end, name="court_case_end"),
    path("court-orders/alerts/<int:pk>/resolve/", court_orders.court_alert_resolve, name="court_alert"),
    # Administration
    path("<dept:code>/members/", admin.members, name="members"),
    path("<dept:code>/members/<int:user_id>/", admin.member_action, name="member_action"),
    path("<dept:code>/partners/", admin.partner_list, name="partner_list"),
    path("<dept:code>/partners/<int:organisation_id>/", admin.partner_detail, name="partner_detail"),
    path("platform/", admin.platform, name="platform"),
    # Partners
    path("partner/apply/", partners.apply, name="partner_apply"),
    path("partner/", partners.home, name="partner_home"),
    path("partner/file/", partners.file_for_client, name="partner_file"),
    path("partner/attach/", partners.attach, name="partner_attach"),
    path("partner/members/", partners.members, name="partner_members"),
    path(
        "partner/members/<int:member_id>/deactivate/",
        partners.deactivate_member,
        name="partner_member_deactivate",
    ),
    path("mandates/<int:mandate_id>/revoke/", partners.revoke_mandate, name="revoke_mandate"),
    path("mandates/<int:mandate_id>/form/", partners.mandate_form, name="mandate_form"),
]
