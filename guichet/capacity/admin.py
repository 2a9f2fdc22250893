"""Slots in the admin, to look at only: they come from the opening rules (slot generation) or from
`open_extra_slot`, and are held through offers and appointments, never edited by hand."""

from django.contrib import admin
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _

from .models import Hold, Slot


@admin.register(Slot)
class SlotAdmin(admin.ModelAdmin):
    list_display = ["starts_at", "ends_at", "counter", "rule", "is_held"]
    list_filter = ["counter__site__prefecture", "counter__site", "counter"]
    date_hierarchy = "starts_at"
    list_select_related = ["counter__site", "rule__counter__site"]
    readonly_fields = ["counter", "rule", "extra_procedures", "starts_at", "ends_at", "created_at"]

    def get_queryset(self, request):
        return (
            super().get_queryset(request).annotate(held=Exists(Hold.objects.filter(slot_id=OuterRef("pk"))))
        )

    @admin.display(description=_("held"), boolean=True, ordering="held")
    def is_held(self, obj: Slot) -> bool:
        return obj.held

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Hold)
class HoldAdmin(admin.ModelAdmin):
    list_display = ["slot", "kind", "request", "created_at"]
    list_filter = ["kind"]
    list_select_related = ["slot__counter__site", "request"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
