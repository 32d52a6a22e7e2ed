"""Admin of duty."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponseRedirect
from django.utils.translation import gettext_lazy as _

from duty import rosters
from duty.choices import HandoverState, RosterState
from duty.coverage import roster_findings
from duty.handovers import HANDOVER_RELATED, handover_acknowledge, item_groups
from duty.log import log_entry_record
from duty.models import (
    DutyLogEntry,
    DutyPolicy,
    Handover,
    HandoverItem,
    Roster,
    Rotation,
    RotationMember,
    Shift,
    ShiftRequirement,
    ShiftType,
    SwapRequest,
)
from duty.rosters import OFF
from duty.swaps import OPEN_STATES, SWAP_RELATIONS, swap_problems, swap_transition
from opscenter.core.admin import (
    PolicyAdmin,
    ReasonForm,
    RecordInline,
    ServiceErrorsAsMessages,
    TransitionAdminMixin,
    TransitionForm,
    error_text,
)
from opscenter.core.exceptions import OpsCenterError
from opscenter.core.formatting import local_minute

# --- roster: the policy, shift types, rotations, rosters (with the decision to publish) and shifts ---


@admin.register(DutyPolicy)
class DutyPolicyAdmin(PolicyAdmin):
    """The center's one duty policy."""

    list_display = ["__str__", "time_zone", "max_hours_in_row", "min_rest_hours", "swap_lead_hours"]


class ShiftRequirementInline(admin.TabularInline):
    model = ShiftRequirement
    extra = 1


@admin.register(ShiftType)
class ShiftTypeAdmin(admin.ModelAdmin):
    """A team's kinds of shift, each with the headcount per role the coverage check asks for."""

    list_display = ["code", "name", "team", "start_time", "duration_minutes", "is_active"]
    list_filter = ["team", "is_active"]
    list_select_related = ["team"]
    search_fields = ["code", "name"]
    inlines = [ShiftRequirementInline]


class RotationForm(forms.ModelForm):
    """A pattern of the team's shift type codes and days off ("off")."""

    class Meta:
        model = Rotation
        fields = ["team", "name", "role", "pattern", "starts_on", "is_active"]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        pattern, team = data.get("pattern"), data.get("team")
        if pattern is None or team is None:
            return data
        if not isinstance(pattern, list) or not pattern or not all(isinstance(code, str) for code in pattern):
            self.add_error("pattern", _('Give a list of shift type codes and "off", e.g. ["day", "night", "off"].'))
            return data
        codes = set(ShiftType.objects.filter(team=team).values_list("code", flat=True))
        unknown = sorted({code for code in pattern if code != OFF and code not in codes})
        if unknown:
            self.add_error("pattern", _("Not a shift type of the team: %(codes)s.") % {"codes": ", ".join(unknown)})
        return data


class RotationMemberInline(admin.TabularInline):
    model = RotationMember
    extra = 1
    autocomplete_fields = ["user"]


@admin.register(Rotation)
class RotationAdmin(admin.ModelAdmin):
    """Who takes turns in what pattern. Editing a rotation changes no shift: rosters are generated (or a draft's
    future shifts made again) from it."""

    form = RotationForm
    list_display = ["name", "team", "role", "starts_on", "is_active"]
    list_filter = ["team", "is_active"]
    list_select_related = ["team"]
    inlines = [RotationMemberInline]


class ShiftInline(RecordInline):
    model = Shift
    fields = ["start", "end", "user", "role", "shift_type", "attendance"]
    select_related = ("user", "shift_type")
    ordering = ["start"]
    show_change_link = True


class AcceptFindingsForm(TransitionForm):
    comment = None
    note = forms.CharField(label=_("why the findings are acceptable"), widget=forms.Textarea(attrs={"rows": 2}))


class RosterAddForm(forms.ModelForm):
    """A roster added here is generated from the team's active rotations."""

    class Meta:
        model = Roster
        fields = ["team", "first_day", "last_day"]


@admin.register(Roster)
class RosterAdmin(ServiceErrorsAsMessages, TransitionAdminMixin, admin.ModelAdmin):
    """Rosters: generated from the team's rotations when added; the decision to publish (or to accept the
    findings first) at the top; the shifts below, edited one by one on the shifts' pages."""

    fsm_forms = {"publish": TransitionForm, "withdraw": ReasonForm, "accept_findings": AcceptFindingsForm}
    decision_template = "admin/duty/roster/decision.html"
    decision_title = _("Publishing decision")
    decision_transitions = ("accept_findings", "publish")
    danger_transitions = ("withdraw",)
    list_display = ["__str__", "team", "first_day", "last_day", "state", "published_at", "created_by"]
    list_filter = ["state", "team"]
    list_select_related = ["team", "created_by"]
    date_hierarchy = "first_day"
    inlines = [ShiftInline]
    readonly_fields = ["team", "first_day", "last_day", "state", "published_at", "findings_accepted_at",
                       "findings_accepted_by", "findings_note", "created_by", "created_at", "timeline"]

    def get_form(self, request: HttpRequest, obj: Roster | None = None, **kwargs: Any) -> Any:
        if obj is None:
            kwargs["form"] = RosterAddForm
        return super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: Roster | None = None) -> Any:
        return () if obj is None else self.readonly_fields

    def get_fields(self, request: HttpRequest, obj: Roster | None = None) -> Any:
        return RosterAddForm.Meta.fields if obj is None else self.readonly_fields

    def get_inlines(self, request: HttpRequest, obj: Roster | None) -> list:
        return self.inlines if obj is not None else []

    def save_model(self, request: HttpRequest, obj: Roster, form: forms.ModelForm, change: bool) -> None:
        if change:
            return  # nothing of a roster is edited here but its state, by the buttons
        made = rosters.roster_generate(user=request.user, **form.cleaned_data)
        obj.pk, obj.created_by, obj.created_at = made.pk, made.created_by, made.created_at

    def save_related(self, request: HttpRequest, form: forms.ModelForm, formsets: Any, change: bool) -> None:
        """The shifts were made by the generation."""

    def has_delete_permission(self, request: HttpRequest, obj: Roster | None = None) -> bool:
        """Only a draft none of whose shifts has started: a roster that has been lived is history."""
        if obj is not None and (obj.state != RosterState.DRAFT or obj.published_at is not None
                                or obj.shifts.filter(checked_in_at__isnull=False).exists()):
            return False
        return super().has_delete_permission(request, obj)

    def perform(self, obj: Roster, name: str, *, user: Any, comment: str, data: dict[str, Any]) -> Roster:
        return rosters.roster_transition(obj, name, user=user, comment=comment, data=data)

    def decision_context(self, request: HttpRequest, obj: Roster) -> dict[str, Any] | None:
        if obj.state != RosterState.DRAFT:
            return None
        return {"roster": obj, "findings": roster_findings(obj), "shift_count": obj.shifts.count()}


class ShiftForm(forms.ModelForm):
    class Meta:
        model = Shift
        fields = ["roster", "user", "role", "shift_type", "start", "end"]


@admin.register(Shift)
class ShiftAdmin(ServiceErrorsAsMessages, admin.ModelAdmin):
    """Single assignments: added, changed and removed through the roster services (a draft roster, before the
    shift starts, no overlap for the person, the person holding the role)."""

    form = ShiftForm
    list_display = ["start", "end", "user", "role", "team", "shift_type", "roster", "attendance"]
    list_filter = ["team", "role", "roster__state", "attendance"]
    list_select_related = ["user", "team", "shift_type", "roster__team"]
    search_fields = ["user__username", "user__display_name"]
    date_hierarchy = "start"
    autocomplete_fields = ["user"]
    readonly_fields = ["attendance", "checked_in_at", "checked_out_at", "late_minutes", "absence_notified_at"]
    show_full_result_count = False
    actions: list = []

    def get_readonly_fields(self, request: HttpRequest, obj: Shift | None = None) -> Any:
        return (*self.readonly_fields, "roster") if obj is not None else self.readonly_fields

    def save_model(self, request: HttpRequest, obj: Shift, form: forms.ModelForm, change: bool) -> None:
        data = form.cleaned_data
        if change:
            changes = {name: data[name] for name in form.changed_data if name in rosters.SHIFT_FIELDS}
            saved = rosters.shift_update(Shift.objects.get(pk=obj.pk), user=request.user, changes=changes)
        else:
            saved = rosters.shift_add(data["roster"], user=request.user, person=data["user"], role=data["role"],
                                      start=data["start"], end=data["end"], shift_type=data.get("shift_type"))
        obj.pk, obj.team_id = saved.pk, saved.team_id

    def delete_view(self, request: HttpRequest, object_id: str, extra_context: dict | None = None) -> Any:
        try:
            return super().delete_view(request, object_id, extra_context)
        except OpsCenterError as exc:
            self.message_user(request, error_text(exc), messages.ERROR)
            return HttpResponseRedirect(request.path.rsplit("delete/", 1)[0])

    def delete_model(self, request: HttpRequest, obj: Shift) -> None:
        rosters.shift_delete(obj, user=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Shift]) -> None:
        for shift in queryset:
            rosters.shift_delete(shift, user=request.user)

# --- end roster ---


# --- swap (調班) -----------------------------------------------------------------------------------------


@admin.register(SwapRequest)
class SwapRequestAdmin(ServiceErrorsAsMessages, TransitionAdminMixin, admin.ModelAdmin):
    """Shift swaps: read as they were asked, decided with the decision panel (the facts, why it may no longer be
    possible, approve or reject); every transition goes through duty.swaps, which changes the roster."""

    fsm_forms = {"accept": TransitionForm, "decline": TransitionForm, "approve": TransitionForm,
                 "reject": ReasonForm, "cancel": TransitionForm}
    decision_template = "admin/duty/swaprequest/decision.html"
    decision_title = _("Swap decision")
    decision_transitions = ("approve", "reject")
    danger_transitions = ("reject",)
    list_display = ["__str__", "kind", "state", "given", "expires_at", "created_by", "decided_by"]
    list_select_related = SWAP_RELATIONS
    list_filter = ["state", "kind"]
    search_fields = ["requester__username", "colleague__username", "reason"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    fields = ["kind", "state", "requester", "colleague", "shift", "part_start", "part_end", "counter_shift", "reason",
              "created_by", "created_at", "expires_at", "decided_by", "decided_at", "timeline"]
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).visible_to(request.user).select_related(*SWAP_RELATIONS)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # asked for on the shift's page or through the API (duty.swaps.swap_request)

    def has_delete_permission(self, request: HttpRequest, obj: SwapRequest | None = None) -> bool:
        return False  # a swap and its timeline are records of who agreed and who approved

    def perform(self, obj: SwapRequest, name: str, *, user: Any, comment: str, data: dict[str, Any]) -> SwapRequest:
        return swap_transition(obj, name, user=user, comment=comment, data=data)

    def decision_context(self, request: HttpRequest, obj: SwapRequest) -> dict[str, Any] | None:
        if obj.state not in OPEN_STATES:
            return None
        start, end = obj.window()
        return {"swap": obj, "given_start": start, "given_end": end, "problems": swap_problems(obj)}

    @admin.display(description=_("time given"))
    def given(self, obj: SwapRequest) -> str:
        start, end = obj.window()
        return f"{local_minute(start)} – {local_minute(end)}"


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
