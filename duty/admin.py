"""Duty in the admin."""

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from duty.choices import HandoverState
from duty.handovers import HANDOVER_RELATED, handover_acknowledge, item_groups
from duty.log import log_entry_record
from duty.models import DutyLogEntry, Handover, HandoverItem
from opscenter.core.admin import RecordInline, ServiceErrorsAsMessages, TransitionAdminMixin, TransitionForm

# --- attend: the duty log (add-only), handovers (their items, the acknowledgement) -------------------------------


@admin.register(DutyLogEntry)
class DutyLogEntryAdmin(ServiceErrorsAsMessages, admin.ModelAdmin):
    """The duty log is append-only: an entry is added here (to the author's current shift, by the same service
    as the pages and the API) and then only read."""

    list_display = ["occurred_at", "kind", "short_text", "informed", "author", "shift"]
    list_filter = ["kind", "shift__team"]
    list_select_related = ["author", "shift__team", "shift__user"]
    search_fields = ["text", "informed"]
    date_hierarchy = "occurred_at"
    fields = ["kind", "occurred_at", "text", "informed", "incidents", "changes"]
    autocomplete_fields = ["incidents", "changes"]

    @admin.display(description=_("what happened"))
    def short_text(self, entry: DutyLogEntry) -> str:
        return entry.text if len(entry.text) <= 80 else f"{entry.text[:79]}…"

    def get_fields(self, request: HttpRequest, obj: DutyLogEntry | None = None) -> list[str]:
        if obj is None:
            return self.fields
        return ["shift", "author", "recorded_at", *self.fields]

    def get_readonly_fields(self, request: HttpRequest, obj: DutyLogEntry | None = None) -> list[str]:
        return [] if obj is None else self.get_fields(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: DutyLogEntry | None = None) -> bool:
        return False  # what was recorded stays as it was

    def has_delete_permission(self, request: HttpRequest, obj: DutyLogEntry | None = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: DutyLogEntry, form: forms.ModelForm, change: bool) -> None:
        data = form.cleaned_data
        saved = log_entry_record(user=request.user, kind=data["kind"], text=data["text"],
                                 informed=data.get("informed", ""), occurred_at=data.get("occurred_at"),
                                 incidents=list(data.get("incidents") or []), changes=list(data.get("changes") or []))
        obj.pk = saved.pk
        obj._state.adding = False

    def save_related(self, request: HttpRequest, form: forms.ModelForm, formsets: Any, change: bool) -> None:
        """The service wrote the links with the entry."""


class HandoverItemInline(RecordInline):
    model = HandoverItem
    fields = ["source", "reference", "title", "status", "url"]


@admin.register(Handover)
class HandoverAdmin(ServiceErrorsAsMessages, TransitionAdminMixin, admin.ModelAdmin):
    """交接班: written from "My duty" or the API; here supervisors read them and acknowledge one for the incoming
    person (recorded as theirs)."""

    list_display = ["shift", "state", "incoming_person", "written_by", "written_at", "acknowledged_by"]
    list_filter = ["state", "shift__team"]
    list_select_related = HANDOVER_RELATED
    search_fields = ["summary", "shift__user__username", "shift__user__display_name"]
    date_hierarchy = "written_at"
    fields = ["shift", "incoming_shift", "summary", "written_by", "written_at", "state", "acknowledged_by",
              "acknowledged_at", "timeline"]
    readonly_fields = fields
    inlines = [HandoverItemInline]
    decision_template = "admin/duty/handover/decision.html"
    decision_title = _("Handover to acknowledge")
    decision_transitions = ("acknowledge",)
    fsm_forms = {"acknowledge": TransitionForm}  # noqa: RUF012

    @admin.display(description=_("incoming"))
    def incoming_person(self, handover: Handover) -> Any:
        return handover.incoming_shift.user if handover.incoming_shift_id else "—"

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).select_related(*HANDOVER_RELATED)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # written by the outgoing person while on duty, from "My duty" or the API

    def has_delete_permission(self, request: HttpRequest, obj: Handover | None = None) -> bool:
        return False

    def perform(self, obj: Handover, name: str, *, user: Any, comment: str, data: dict[str, Any]) -> Handover:
        return handover_acknowledge(obj, user=user, comment=comment)

    def decision_context(self, request: HttpRequest, obj: Handover) -> dict[str, Any] | None:
        if obj.state != HandoverState.WRITTEN:
            return None
        return {"handover": obj, "groups": item_groups(obj)}
