"""The catalogue in the Django admin (platform administrators only: guichet/accounts/admin_site.py).

Validated by the same forms and saved by the same service as the back office's catalogue editor
(editing.py): a refused form writes nothing; an accepted change saves the object, brings the prefecture's
slots in line with the new catalogue (when the change can affect them), and records the audit entry, all in
one transaction.
"""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy

from guichet.accounts.permissions import actor_for
from guichet.capacity.services import GenerationReport, generate_slots

from . import editing, forms
from .feedback import report_to_messages
from .models import Closure, Counter, OpeningRule, Prefecture, Procedure, Site


class CatalogAdmin(admin.ModelAdmin):
    """Saves and deletions through the catalogue's editing service (guichet/catalog/editing.py), the one
    the back office's editor calls: audited in the prefecture's chain, slots regenerated when they may
    change."""

    def save_model(self, request, obj, form, change):
        # Saved with its many-to-many values in save_related, in the service's one transaction.
        pass

    def save_related(self, request, form, formsets, change):
        reports = editing.save(
            form.instance,
            actor=actor_for(request.user),
            changed_fields=form.changed_data,
            save_m2m=form.save_m2m,
        )
        for report in reports:
            report_to_messages(request, report)
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def delete_model(self, request, obj):
        self.delete_queryset(request, self.model.objects.filter(pk=obj.pk))

    def delete_queryset(self, request, queryset):
        for report in editing.delete(queryset, actor=actor_for(request.user)):
            report_to_messages(request, report)


@admin.register(Prefecture)
class PrefectureAdmin(CatalogAdmin):
    form = forms.PrefectureForm
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
    list_display = ["name", "prefecture", "city", "step_free", "is_active"]
    list_filter = ["prefecture", "is_active", "step_free"]
    search_fields = ["name", "city", "postal_code"]


@admin.register(Counter)
class CounterAdmin(CatalogAdmin):
    form = forms.CounterForm
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


@admin.register(OpeningRule)
class OpeningRuleAdmin(CatalogAdmin):
    form = forms.OpeningRuleForm
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
    list_display = ["__str__", "start_date", "end_date", "reason"]
    list_filter = ["site__prefecture", "site"]
    date_hierarchy = "start_date"
