"""Admin of satisfaction: the survey policy (one row), surveys (read-only: answered only through their
links), follow-ups closed with a note through the service, and campaigns with their questions, opened and
closed through the services."""

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from opscenter.core import roles
from opscenter.core.admin import PolicyAdmin, ServiceErrorsAsMessages, error_text
from opscenter.core.exceptions import OpsCenterError
from opscenter.core.roles import has_role
from opscenter.core.workflow import allowed_transition_names
from sla.choices import CampaignState
from sla.models import Campaign, CampaignInvitation, CampaignQuestion, FollowUp, Survey, SurveyPolicy
from sla.surveys import services


@admin.register(SurveyPolicy)
class SurveyPolicyAdmin(PolicyAdmin):
    """How satisfaction surveys are sent."""

    list_display = ["__str__", "delay_minutes", "sampling_percent", "quiet_days", "valid_days", "low_score"]


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records written by the services only."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Survey)
class SurveyAdmin(ReadOnlyAdmin):
    list_display = ["incident", "respondent", "department", "state", "send_after", "answered_at", "score"]
    list_filter = ["state", "score", "department", "team"]
    list_select_related = ["incident", "respondent", "department"]
    search_fields = ["incident__number", "respondent__username", "comment"]
    date_hierarchy = "send_after"


@admin.register(FollowUp)
class FollowUpAdmin(ServiceErrorsAsMessages, admin.ModelAdmin):
    """A supervisor closes a follow-up by writing what was done (through sla.surveys.follow_up_close)."""

    list_display = ["survey", "survey_score", "state", "created_at", "closed_by", "closed_at"]
    list_filter = ["state"]
    list_select_related = ["survey__incident", "survey__respondent", "closed_by"]
    fields = ["survey", "survey_score", "survey_comment", "state", "note", "closed_by", "closed_at"]

    @admin.display(description=_("score"))
    def survey_score(self, obj: FollowUp) -> int | None:
        return obj.survey.score

    @admin.display(description=_("comment"))
    def survey_comment(self, obj: FollowUp) -> str:
        return obj.survey.comment

    def get_readonly_fields(self, request: HttpRequest, obj: FollowUp | None = None) -> list[str]:
        """The note is written only by whom may close the follow-up now (`close`: a supervisor, while open)."""
        fixed = ["survey", "survey_score", "survey_comment", "state", "closed_by", "closed_at"]
        may_close = obj is not None and "close" in allowed_transition_names(obj, request.user)
        return fixed if may_close else [*fixed, "note"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: FollowUp, form: Any, change: bool) -> None:
        if "note" in form.changed_data:
            services.follow_up_close(obj, user=request.user, note=obj.note)


class QuestionInline(admin.TabularInline):
    model = CampaignQuestion
    extra = 3
    fields = ["ordering", "text", "kind", "team", "service", "required"]

    def _draft(self, obj: Campaign | None) -> bool:
        return obj is None or obj.state == CampaignState.DRAFT

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._draft(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._draft(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._draft(obj) and super().has_delete_permission(request, obj)


class InvitationInline(admin.TabularInline):
    model = CampaignInvitation
    extra = 0
    fields = ["respondent", "department", "sent_at", "answered_at"]
    readonly_fields = fields
    can_delete = False

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("respondent", "department")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Campaign)
class CampaignAdmin(ServiceErrorsAsMessages, admin.ModelAdmin):
    """Draft a campaign with its questions here; open it (invitations sent) and close it with the actions."""

    list_display = ["name", "state", "opens_at", "closes_at", "created_by"]
    list_filter = ["state"]
    list_select_related = ["created_by"]
    filter_horizontal = ["departments"]
    inlines = [QuestionInline, InvitationInline]
    actions = ["open_campaigns", "close_campaigns"]
    fields = ["name", "description", "departments", "closes_at", "state", "opens_at", "created_by"]
    readonly_fields = ["state", "opens_at", "created_by"]

    def save_model(self, request: HttpRequest, obj: Campaign, form: Any, change: bool) -> None:
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    def _each(self, request: HttpRequest, queryset: QuerySet, service: Any, done: str) -> None:
        count = 0
        for campaign in queryset:
            try:
                service(campaign, user=request.user)
                count += 1
            except OpsCenterError as exc:
                self.message_user(request, f"{campaign}: {error_text(exc)}", messages.ERROR)
        if count:
            self.message_user(request, done % {"count": count}, messages.SUCCESS)

    @admin.action(description=_("Open and send the invitations"), permissions=["take_transitions"])
    def open_campaigns(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._each(request, queryset, services.campaign_open, str(_("%(count)d campaign(s) opened.")))

    @admin.action(description=_("Close"), permissions=["take_transitions"])
    def close_campaigns(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._each(request, queryset, services.campaign_close, str(_("%(count)d campaign(s) closed.")))

    def has_take_transitions_permission(self, request: HttpRequest) -> bool:
        """The actions are offered to whom the transitions' permission admits (supervisors); each campaign's
        state and rules are checked by the transition itself."""
        return has_role(request.user, roles.SUPERVISOR) and self.has_change_permission(request)
