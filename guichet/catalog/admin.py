"""The catalogue in the Django admin: validated forms, every change audited, slots kept in step.

The admin wraps each save and delete in one transaction. A refused form writes nothing; an accepted
change saves the object, brings the prefecture's slots in line with the new catalogue (when the change
can affect them), and records the audit entry, all in that transaction: either everything or nothing.
"""

from django.contrib import admin, messages
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from guichet.accounts.permissions import actor_for
from guichet.capacity.services import GenerationReport, generate_slots
from guichet.evidence.services import record_change

from . import forms, services
from .models import Closure, Counter, OpeningRule, Prefecture, Procedure, Site

# At most this many conflicts are listed in the message after a save; the audit entry has them all.
SHOWN_CONFLICTS = 10


def report_to_messages(request, report: GenerationReport) -> None:
    if report.changed:
        messages.info(
            request,
            _(
                "Slots brought in line with the catalogue: %(created)s created, %(updated)s changed, "
                "%(deleted)s removed."
            )
            % {"created": report.created, "updated": report.updated, "deleted": report.deleted},
        )
    if report.conflicts:
        lines = "; ".join(str(conflict) for conflict in report.conflicts[:SHOWN_CONFLICTS])
        more = len(report.conflicts) - SHOWN_CONFLICTS
        messages.warning(
            request,
            ngettext(
                "%(count)s held slot no longer matches the catalogue and was left as it is; cancel or move "
                "its appointment or offer: %(lines)s",
                "%(count)s held slots no longer match the catalogue and were left as they are; cancel or "
                "move those appointments and offers: %(lines)s",
                len(report.conflicts),
            )
            % {"count": len(report.conflicts), "lines": lines}
            + (_(" … and %(more)s more.") % {"more": more} if more > 0 else ""),
        )


class CatalogAdmin(admin.ModelAdmin):
    """Saves and deletions audited in the prefecture's chain; slots regenerated when they may change.

    `slot_fields`: the fields whose change can change the slots (None: any change, creation or deletion).
    """

    slot_fields: set[str] | None = set()

    def affects_slots(self, change: bool, changed_fields) -> bool:
        if self.slot_fields is None:
            return True
        return change and bool(self.slot_fields & set(changed_fields))

    def save_model(self, request, obj, form, change):
        if change:
            # A rule or closure moved to another counter or site may leave another prefecture's slots
            # to bring in line. Kept on the request: the admin object is shared between threads.
            previous = type(obj).objects.get(pk=obj.pk)
            request._catalog_previous_prefecture = services.prefecture_of(previous)
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        obj = form.instance
        actor = actor_for(request.user)
        # Slots first: generation locks the prefecture row, and the audit chain head is always locked last.
        if self.affects_slots(change, form.changed_data):
            prefectures = {services.prefecture_of(obj)}
            previous = getattr(request, "_catalog_previous_prefecture", None)
            if previous is not None:
                prefectures.add(previous)
            for prefecture in sorted(prefectures, key=lambda p: p.pk):
                report_to_messages(request, generate_slots(prefecture, actor=actor))
        services.audit_catalog_change(obj, "changed" if change else "created", actor, form.changed_data)

    def delete_model(self, request, obj):
        self.delete_queryset(request, self.model.objects.filter(pk=obj.pk))

    def delete_queryset(self, request, queryset):
        actor = actor_for(request.user)
        with transaction.atomic():
            objects = list(queryset)
            entries = [services.catalog_change(obj, "deleted", actor) for obj in objects]
            prefectures = {services.prefecture_of(obj).pk: services.prefecture_of(obj) for obj in objects}
            queryset.delete()
            if self.slot_fields is None:
                for prefecture in prefectures.values():
                    report_to_messages(request, generate_slots(prefecture, actor=actor))
            for chain, entry in entries:
                record_change(chain, entry)


@admin.register(Prefecture)
class PrefectureAdmin(CatalogAdmin):
    form = forms.PrefectureForm
    slot_fields = {"timezone", "holiday_subdivision"}
    list_display = ["code", "name", "timezone", "holiday_subdivision", "late_renewal_attestation"]
    search_fields = ["code", "name"]
    actions = ["generate_slots_now"]

    def get_readonly_fields(self, request, obj=None):
        # The code names the prefecture's audit chain: it never changes once the prefecture exists.
        return ["code"] if obj is not None else []

    @admin.action(description=gettext_lazy("Generate the slots of the coming weeks now"))
    def generate_slots_now(self, request, queryset):
        actor = actor_for(request.user)
        for prefecture in queryset:
            report = generate_slots(prefecture, actor=actor)
            messages.info(request, report.summary())
            report_to_messages(request, GenerationReport(conflicts=report.conflicts))


@admin.register(Site)
class SiteAdmin(CatalogAdmin):
    slot_fields = {"is_active", "timezone"}
    list_display = ["name", "prefecture", "city", "step_free", "is_active"]
    list_filter = ["prefecture", "is_active", "step_free"]
    search_fields = ["name", "city", "postal_code"]


@admin.register(Counter)
class CounterAdmin(CatalogAdmin):
    form = forms.CounterForm
    slot_fields = {"is_active"}
    list_display = ["name", "site", "language_list", "is_active"]
    list_filter = ["site__prefecture", "site", "is_active"]
    search_fields = ["name", "site__name"]

    @admin.display(description=gettext_lazy("languages besides French"))
    def language_list(self, obj: Counter) -> str:
        return ", ".join(obj.languages)


@admin.register(Procedure)
class ProcedureAdmin(CatalogAdmin):
    form = forms.ProcedureForm
    list_display = ["name", "code", "prefecture", "kind", "mode", "duration_minutes", "target_wait_days"]
    list_filter = ["prefecture", "kind", "mode", "is_active"]
    search_fields = ["name", "code"]

    def save_related(self, request, form, formsets, change):
        # A changed list of documents is published as a new version; requests keep the one they were filed
        # under (R17).
        services.current_checklist(form.instance)
        super().save_related(request, form, formsets, change)


@admin.register(OpeningRule)
class OpeningRuleAdmin(CatalogAdmin):
    form = forms.OpeningRuleForm
    slot_fields = None
    list_display = [
        "counter",
        "weekday",
        "start_time",
        "end_time",
        "slot_minutes",
        "valid_from",
        "valid_until",
    ]
    list_filter = ["counter__site__prefecture", "counter__site", "weekday"]
    filter_horizontal = ["procedures"]
    list_select_related = ["counter__site"]


@admin.register(Closure)
class ClosureAdmin(CatalogAdmin):
    form = forms.ClosureForm
    slot_fields = None
    list_display = ["__str__", "start_date", "end_date", "reason"]
    list_filter = ["site__prefecture", "site"]
    date_hierarchy = "start_date"
