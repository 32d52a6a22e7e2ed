"""Admin of service levels: business calendars with their hours and exceptions, agreements with their
targets and thresholds, team targets (OLA), clocks and breaches, outages, monthly evaluations and the
survey policy.
The satisfaction models are administered in sla.surveys.admin, registered by its import here."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from opscenter.core.admin import RecordInline, ServiceErrorsAsMessages, error_text
from opscenter.core.exceptions import OpsCenterError
from sla import evaluations
from sla.choices import EvaluationState
from sla.models import (
    Agreement,
    Breach,
    BusinessCalendar,
    CalendarException,
    Clock,
    ClockEvent,
    ClockThreshold,
    Evaluation,
    Outage,
    PriorityTarget,
    ServiceTarget,
    TeamTarget,
    Threshold,
    WorkingInterval,
)
from sla.surveys import admin as survey_admin  # noqa: F401  (satisfaction: policy, surveys, follow-ups, campaigns)


def duration_text(seconds: int | None) -> str:
    """Business seconds as hours and minutes (e.g. 2 h 05 min)."""
    if seconds is None:
        return "—"
    sign, seconds = ("-" if seconds < 0 else ""), abs(seconds)
    hours, minutes = divmod(seconds // 60, 60)
    return f"{sign}{hours} h {minutes:02d} min"


def kept_forms(formset: BaseInlineFormSet) -> list[forms.Form]:
    """The forms of an inline whose rows will exist after the save (valid, filled in, not deleted)."""
    return [form for form in formset.forms
            if getattr(form, "cleaned_data", None) and not formset._should_delete_form(form)]


# --- Business calendars --------------------------------------------------------------------------------

class IntervalFormSet(BaseInlineFormSet):
    """Working intervals of one weekday may not overlap: checked across the rows posted together (the
    model's own check sees saved rows only)."""

    def clean(self) -> None:
        super().clean()
        taken: dict[int, list[tuple[Any, Any]]] = {}
        for form in kept_forms(self):
            data = form.cleaned_data
            weekday, start, end = data.get("weekday"), data.get("start"), data.get("end")
            if weekday is None or start is None or end is None:
                continue
            if any(start < other_end and other_start < end for other_start, other_end in taken.get(weekday, [])):
                form.add_error("start", gettext("This interval overlaps another one of the same day."))
            taken.setdefault(weekday, []).append((start, end))


class ExceptionFormSet(BaseInlineFormSet):
    """One exception per date (the database holds one per calendar and date)."""

    def clean(self) -> None:
        super().clean()
        seen: set[Any] = set()
        for form in kept_forms(self):
            day = form.cleaned_data.get("date")
            if day in seen:
                form.add_error("date", gettext("This date is already an exception of the calendar."))
            seen.add(day)


class WorkingIntervalInline(admin.TabularInline):
    model = WorkingInterval
    formset = IntervalFormSet
    extra = 0
    fields = ["weekday", "start", "end"]


class CalendarExceptionInline(admin.TabularInline):
    model = CalendarException
    formset = ExceptionFormSet
    extra = 0
    fields = ["date", "kind", "start", "end", "note"]


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(admin.ModelAdmin):
    """Calendars: an edit (of the calendar, its hours or its exceptions) raises the version and recomputes the
    deadlines of the open clocks on it (sla.receivers); stopped clocks and published months keep their figures."""

    list_display = ["name", "time_zone", "is_24x7", "holiday_country", "holiday_subdivision", "version"]
    list_filter = ["is_24x7", "holiday_country"]
    search_fields = ["name"]
    fields = ["name", "time_zone", "is_24x7", "holiday_country", "holiday_subdivision", "version"]
    readonly_fields = ["version"]
    inlines = [WorkingIntervalInline, CalendarExceptionInline]

    def has_delete_permission(self, request: HttpRequest, obj: BusinessCalendar | None = None) -> bool:
        if obj is not None and (obj.agreements.exists() or obj.clocks.exists()):
            return False  # agreements and clocks count in it
        return super().has_delete_permission(request, obj)


# --- Agreements and targets ----------------------------------------------------------------------------

class ServiceTargetInline(admin.TabularInline):
    model = ServiceTarget
    extra = 0
    fields = ["service", "availability", "calendar"]


class PriorityTargetInline(admin.TabularInline):
    model = PriorityTarget
    extra = 0
    fields = ["priority", "response_minutes", "resolution_minutes", "calendar"]


class ThresholdInline(admin.TabularInline):
    model = Threshold
    extra = 0
    fields = ["percent", "notify_assignee", "notify_team", "notify_supervisors", "notify_department", "users"]
    autocomplete_fields = ["users"]


@admin.register(Agreement)
class AgreementAdmin(admin.ModelAdmin):
    """Service level agreements with departments: availability per service, response and resolution per
    priority, warning thresholds and who hears of them."""

    list_display = ["name", "department", "valid_from", "valid_until", "calendar", "is_active", "is_default"]
    list_select_related = ["department", "calendar"]
    list_filter = ["is_active", "is_default", "department"]
    search_fields = ["name", "department__name"]
    date_hierarchy = "valid_from"
    fields = ["department", "name", "valid_from", "valid_until", "calendar", "is_active", "is_default"]
    inlines = [ServiceTargetInline, PriorityTargetInline, ThresholdInline]

    def has_delete_permission(self, request: HttpRequest, obj: Agreement | None = None) -> bool:
        if obj is not None and obj.clocks.exists():
            return False  # clocks counted against it; end its validity instead
        return super().has_delete_permission(request, obj)


@admin.register(TeamTarget)
class TeamTargetAdmin(admin.ModelAdmin):
    """Operational level targets: how long a ticket may stay with one team, per priority."""

    list_display = ["team", "priority", "resolution_minutes", "calendar"]
    list_select_related = ["team", "calendar"]
    list_filter = ["team", "priority"]


# --- Clocks and breaches -------------------------------------------------------------------------------

class ClockEventInline(RecordInline):
    model = ClockEvent
    fields = ["kind", "at", "actor", "reason", "segment_seconds", "target_seconds"]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("actor")


class ClockThresholdInline(RecordInline):
    model = ClockThreshold
    fields = ["percent", "due_at", "fired_at"]


class RecordAdmin(admin.ModelAdmin):
    """Records the services write: never added or deleted in the admin."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Clock)
class ClockAdmin(RecordAdmin):
    """Clocks follow their incidents (sla.clocks); here they are read, with their timeline and thresholds."""

    list_display = ["incident", "kind", "state", "priority", "department", "team", "target", "elapsed", "due_at",
                    "breached"]
    list_select_related = ["incident", "department", "team"]
    list_filter = ["state", "kind", "breached", "priority", "department"]
    search_fields = ["incident__number", "incident__title"]
    date_hierarchy = "started_at"
    show_full_result_count = False
    list_per_page = 50
    fields = ["incident", "kind", "state", "team", "agreement", "department", "calendar", "priority", "target",
              "elapsed", "started_at", "segment_started_at", "due_at", "stopped_at", "breached"]
    readonly_fields = fields
    inlines = [ClockEventInline, ClockThresholdInline]

    def has_change_permission(self, request: HttpRequest, obj: Clock | None = None) -> bool:
        return False

    @admin.display(description=_("target"), ordering="target_seconds")
    def target(self, obj: Clock) -> str:
        return duration_text(obj.target_seconds)

    @admin.display(description=_("elapsed (closed segments)"), ordering="elapsed_seconds")
    def elapsed(self, obj: Clock) -> str:
        return duration_text(obj.elapsed_seconds)


def published_month(breach: Breach) -> bool:
    """The breach's month has been published to its department: its explanation is part of the record."""
    month = timezone.localdate(breach.breached_at).replace(day=1)
    return Evaluation.objects.filter(department_id=breach.department_id, month=month,
                                     state=EvaluationState.PUBLISHED).exists()


class ExplainedFilter(admin.SimpleListFilter):
    """Breaches still waiting for their explanation and corrective action (the month cannot be published)."""

    title = _("explained")
    parameter_name = "explained"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("no", _("Not yet explained")), ("yes", _("Explained"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        missing = (queryset.filter(explanation="") | queryset.filter(corrective_action="")
                   | queryset.filter(action_owner__isnull=True) | queryset.filter(action_due__isnull=True))
        if self.value() == "no":
            return missing
        if self.value() == "yes":
            return queryset.exclude(pk__in=missing.values("pk"))
        return queryset


EXPLANATION = ["explanation", "corrective_action", "action_owner", "action_due"]


class BreachForm(forms.ModelForm):
    """The explanation of a breach is complete or not given: explanation, corrective action, owner and due."""

    class Meta:
        model = Breach
        fields = EXPLANATION

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        given = [name for name in EXPLANATION if data.get(name)]
        if given and len(given) < len(EXPLANATION):
            for name in EXPLANATION:
                if not data.get(name) and name not in self.errors:
                    self.add_error(name, gettext("An explanation needs the corrective action, its owner "
                                                 "and its due date."))
        return data


@admin.register(Breach)
class BreachAdmin(ServiceErrorsAsMessages, RecordAdmin):
    """Breaches are recorded once by the clocks, and a service's availability below target once per month;
    supervisors explain each and record its corrective action (owner, due date) before the month is published.
    A published month's explanations stay as published."""

    form = BreachForm
    list_display = ["incident", "service", "kind", "department", "breached_at", "is_explained", "action_owner",
                    "action_due"]
    list_select_related = ["incident", "service", "department", "action_owner"]
    list_filter = [ExplainedFilter, "kind", "department"]
    search_fields = ["incident__number", "incident__title", "service__name", "explanation"]
    date_hierarchy = "breached_at"
    show_full_result_count = False
    RECORD = ["incident", "service", "month", "kind", "department", "breached_at", "explained_by", "explained_at"]
    fields = [*RECORD, *EXPLANATION]

    def has_change_permission(self, request: HttpRequest, obj: Breach | None = None) -> bool:
        if obj is not None and published_month(obj):
            return False
        return super().has_change_permission(request, obj)

    def get_readonly_fields(self, request: HttpRequest, obj: Breach | None = None) -> Any:
        return self.RECORD

    @admin.display(description=_("explained"), boolean=True)
    def is_explained(self, obj: Breach) -> bool:
        return obj.is_explained

    def save_model(self, request: HttpRequest, obj: Breach, form: forms.ModelForm, change: bool) -> None:
        """The explanation goes through sla.evaluations.breach_explain (who may, the owner, the due date)."""
        if form.changed_data:
            evaluations.breach_explain(breach=obj, user=request.user,
                                       **{name: form.cleaned_data[name] for name in EXPLANATION})


# --- Outages -------------------------------------------------------------------------------------------

@admin.register(Outage)
class OutageAdmin(admin.ModelAdmin):
    """Periods a service was down or degraded, on the incident that caused them (availability is computed
    from them within the service hours)."""

    list_display = ["service", "incident", "kind", "started_at", "ended_at", "recorded_by"]
    list_select_related = ["service", "incident", "recorded_by"]
    list_filter = ["kind", "service"]
    search_fields = ["incident__number", "service__name"]
    date_hierarchy = "started_at"
    fields = ["incident", "service", "kind", "started_at", "ended_at", "recorded_by", "recorded_at"]
    readonly_fields = ["recorded_by", "recorded_at"]
    raw_id_fields = ["incident"]

    def save_model(self, request: HttpRequest, obj: Outage, form: forms.ModelForm, change: bool) -> None:
        if obj.recorded_by_id is None:
            obj.recorded_by = request.user
        super().save_model(request, obj, form, change)


# --- Monthly evaluations -------------------------------------------------------------------------------

@admin.register(Evaluation)
class EvaluationAdmin(RecordAdmin):
    """Monthly evaluations: their figures are computed and frozen by the evaluation services, which the
    actions call (refresh a draft, publish a month whose breaches are all explained)."""

    actions = ["refresh_selected", "publish_selected"]
    list_display = ["department", "month", "state", "published_at", "published_by"]
    list_select_related = ["department", "published_by"]
    list_filter = ["state", "department"]
    date_hierarchy = "month"
    fields = ["department", "month", "state", "summary", "figure_table", "published_at", "published_by"]
    readonly_fields = fields

    def has_change_permission(self, request: HttpRequest, obj: Evaluation | None = None) -> bool:
        return False

    def run(self, request: HttpRequest, queryset: QuerySet, service: Any, done: str) -> None:
        """Call the service for each selected evaluation; one message per evaluation says what happened."""
        for evaluation in queryset.select_related("department").order_by("month", "department"):
            try:
                service(evaluation)
            except OpsCenterError as exc:
                self.message_user(request, gettext("%(evaluation)s: refused: %(reason)s") % {
                    "evaluation": evaluation, "reason": error_text(exc)}, messages.ERROR)
                continue
            self.message_user(request, done % {"evaluation": evaluation}, messages.SUCCESS)

    @admin.action(description=_("Refresh the figures of the selected drafts"), permissions=["change_evaluations"])
    def refresh_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        self.run(request, queryset, lambda e: evaluations.evaluation_prepare(
            department=e.department, month=e.month, user=request.user), gettext("%(evaluation)s: figures refreshed."))

    @admin.action(description=_("Publish the selected evaluations"), permissions=["change_evaluations"])
    def publish_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        self.run(request, queryset, lambda e: evaluations.evaluation_publish(evaluation=e, user=request.user),
                 gettext("%(evaluation)s: published to the department."))

    def has_change_evaluations_permission(self, request: HttpRequest) -> bool:
        """The actions are the supervisor's (the services check the role again)."""
        return request.user.has_perm("sla.change_evaluation")

    @admin.display(description=_("figures"))
    def figure_table(self, obj: Evaluation) -> str:
        """The frozen figures, one row per top-level key (nested values shown as they are stored)."""
        if not obj.figures:
            return "—"
        return format_html('<table id="evaluation-figures"><tbody>{}</tbody></table>', format_html_join(
            "", "<tr><th>{}</th><td>{}</td></tr>", ((key, value) for key, value in obj.figures.items())))

