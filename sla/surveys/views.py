"""Satisfaction pages: the public answer pages of a survey and of a questionnaire (no sign-in: the signed
link is the key), the supervisors' follow-ups, the surveys a department reads, and campaigns with their
results. Views are thin: a selector, a form, one service call; refusals are shown on the page with their
HTTP status (404 forged link, 409 answered, 410 expired or closed), never as an error page."""

from collections.abc import Callable
from datetime import timedelta
from operator import attrgetter
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from opscenter.core import roles
from opscenter.core.exceptions import InvalidInput, OpsCenterError, detail_text
from opscenter.core.forms import apply_service_errors
from opscenter.core.pagination import CappedCountPaginator
from opscenter.core.roles import has_role
from opscenter.core.workflow import allowed_transition_names, available_transitions
from sla.models import Campaign
from sla.surveys import selectors, services
from sla.surveys.forms import (
    CampaignAnswerForm,
    CampaignForm,
    FollowUpCloseForm,
    LinkAnswerForm,
    QuestionFormSet,
    SurveyAnswerForm,
    question_data,
)

PAGE_SIZE = 25
SCORE_PERIOD_DAYS = 90


def link_refused(request: HttpRequest, exc: OpsCenterError) -> HttpResponse:
    """A clear page for a link that cannot be answered, with the status a machine reads."""
    return render(request, "sla/surveys/link_status.html", {"error": exc, "detail": exc.detail},
                  status=exc.status_code)


# --- Public answer pages --------------------------------------------------------------------------------


def answer_by_link(request: HttpRequest, *, load: Callable[[], Any], form_for: Callable[[Any], LinkAnswerForm],
                   submit: Callable[[], Any], template: str, context: dict[str, str]) -> HttpResponse:
    """The one way of the answer pages: a link that cannot be answered gets its clear page (404 forged, 409
    answered, 410 expired or closed); a valid answer is recorded once and thanked; refused input is shown
    on the form (400) and nothing is recorded. `context` names what `load` returned for the template."""
    try:
        target = load()
    except OpsCenterError as exc:
        return link_refused(request, exc)
    form = form_for(target)
    status = 200
    if request.method == "POST":
        try:
            submit()
        except InvalidInput as exc:
            form.apply_errors(exc.detail)
            status = 400
        except OpsCenterError as exc:
            return link_refused(request, exc)
        else:
            return redirect("sla:survey-thanks")
    names = {name: attrgetter(path)(target) if path else target for name, path in context.items()}
    return render(request, template, {**names, "form": form}, status=status)


@require_http_methods(["GET", "POST"])
def survey_answer(request: HttpRequest, token: str) -> HttpResponse:
    """Answer a satisfaction survey through its signed link, once, before it expires."""
    return answer_by_link(
        request, load=lambda: services.survey_to_answer(token),
        form_for=lambda _survey: SurveyAnswerForm(request.POST or None),
        submit=lambda: services.survey_answer(token=token, score=request.POST.get("score"),
                                             comment=request.POST.get("comment", "")),
        template="sla/surveys/survey_answer.html", context={"survey": "", "low_score": "low_score"})


@require_http_methods(["GET", "POST"])
def campaign_answer(request: HttpRequest, token: str) -> HttpResponse:
    """Answer a questionnaire through its signed link, once, while the campaign is open."""
    def submit() -> Any:
        return services.campaign_answer(token=token, answers={key[2:]: value for key, value in request.POST.items()
                                                             if key.startswith("q_")})

    return answer_by_link(
        request, load=lambda: services.invitation_to_answer(token),
        form_for=lambda invitation: CampaignAnswerForm(request.POST or None, questions=invitation.questions),
        submit=submit, template="sla/surveys/campaign_answer.html",
        context={"invitation": "", "campaign": "campaign"})


@require_GET
def survey_thanks(request: HttpRequest) -> HttpResponse:
    return render(request, "sla/surveys/thanks.html")


# --- Signed-in pages ---------------------------------------------------------------------------------------


def _require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied


def _page(request: HttpRequest, rows: Any) -> Any:
    return CappedCountPaginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))


@login_required
@require_GET
def survey_list(request: HttpRequest) -> HttpResponse:
    """Surveys and their scores over the last 90 days: every department for supervisors and auditors, one's
    own department for its users."""
    user = request.user
    _require(selectors.may_read_surveys(user))
    page = _page(request, selectors.survey_list(user=user))
    end = timezone.now()
    own = None if user.has_perm("sla.view_survey") else user.department_id
    scores = selectors.survey_scores(start=end - timedelta(days=SCORE_PERIOD_DAYS), end=end, department=own)
    from sla.panels import surveys_waiting

    waiting = surveys_waiting(user) if has_role(user, roles.DEPARTMENT_USER) else None
    return render(request, "sla/surveys/survey_list.html",
                  {"page": page, "scores": scores, "period_days": SCORE_PERIOD_DAYS, "waiting": waiting})


@login_required
@require_GET
def follow_up_list(request: HttpRequest) -> HttpResponse:
    """Low scores to follow up with the respondent, open first; supervisors close them with a note."""
    _require(request.user.has_perm("sla.view_followup"))
    page = _page(request, selectors.follow_up_list(user=request.user))
    for follow_up in page:  # the page keeps its rows: each offers closing only to whom may take it now
        follow_up.may_close = "close" in allowed_transition_names(follow_up, request.user)
    return render(request, "sla/surveys/follow_up_list.html", {"page": page, "form": FollowUpCloseForm()})


@login_required
@require_POST
def follow_up_close(request: HttpRequest, pk: int) -> HttpResponse:
    follow_up = get_object_or_404(selectors.follow_up_list(user=request.user), pk=pk)
    form = FollowUpCloseForm(request.POST)
    try:
        services.follow_up_close(follow_up, user=request.user, note=request.POST.get("note", ""))
    except OpsCenterError as exc:
        apply_service_errors(form, exc.detail)
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return redirect("sla:follow-up-list")
    messages.success(request, _("The follow-up was closed."))
    return redirect("sla:follow-up-list")


@login_required
@require_GET
def campaign_list(request: HttpRequest) -> HttpResponse:
    _require(request.user.has_perm("sla.view_campaign"))
    page = _page(request, selectors.campaign_list(user=request.user))
    return render(request, "sla/surveys/campaign_list.html",
                  {"page": page, "may_manage": has_role(request.user, roles.SUPERVISOR)})


@login_required
@require_http_methods(["GET", "POST"])
def campaign_create(request: HttpRequest) -> HttpResponse:
    """A supervisor drafts a campaign and its questions; it is opened from its page."""
    _require(has_role(request.user, roles.SUPERVISOR))
    form = CampaignForm(request.POST or None)
    formset = QuestionFormSet(request.POST or None, prefix="questions")
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid() and formset.is_valid():
            try:
                campaign = services.campaign_create(user=request.user, questions=question_data(formset),
                                                   **form.cleaned_data)
            except InvalidInput as exc:
                apply_service_errors(form, exc.detail)
            else:
                messages.success(request, _("The campaign was drafted. Open it to send the invitations."))
                return redirect("sla:campaign-detail", pk=campaign.pk)
    return render(request, "sla/surveys/campaign_form.html", {"form": form, "formset": formset}, status=status)


def _campaign(request: HttpRequest, pk: int) -> Campaign:
    _require(request.user.has_perm("sla.view_campaign"))
    return get_object_or_404(selectors.campaign_list(user=request.user), pk=pk)


@login_required
@require_GET
def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A campaign, its questions and its results so far, per department, team and service."""
    campaign = _campaign(request, pk)
    return render(request, "sla/surveys/campaign_detail.html", {
        "campaign": campaign, "results": selectors.campaign_results(campaign),
        "departments": campaign.departments.all(), "transitions": available_transitions(campaign, request.user)})


@login_required
@require_POST
def campaign_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Open (invite the contacts) or close a campaign."""
    campaign = _campaign(request, pk)
    service = {"open": services.campaign_open, "close": services.campaign_close}.get(action)
    if service is None:
        raise PermissionDenied
    try:
        service(campaign, user=request.user)
    except OpsCenterError as exc:
        messages.error(request, detail_text(exc.detail))
    else:
        messages.success(request, _("The campaign was opened and its invitations sent.") if action == "open"
                         else _("The campaign was closed."))
    return redirect("sla:campaign-detail", pk=pk)
