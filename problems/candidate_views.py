"""Problem candidate pages: the queue (a tab of the problem list) and a candidate with its incidents and the two
decisions. Thin: a selector, a form, one service call; refusals are shown on the page with their HTTP status and
change nothing."""

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from opscenter.core.exceptions import InvalidInput, OpsCenterError, detail_text
from opscenter.core.models import TransitionLog
from opscenter.core.pagination import CappedCountPaginator
from opscenter.core.workflow import allowed_transition_names
from problems.candidates import (
    candidate_accept,
    candidate_dismiss,
    candidate_get,
    candidate_list,
    first_incidents,
    may_read,
)
from problems.choices import CandidateState
from problems.models import Candidate

STATES = {
    CandidateState.PROPOSED: gettext_lazy("Proposed"),
    CandidateState.ACCEPTED: gettext_lazy("Accepted"),
    CandidateState.DISMISSED: gettext_lazy("Dismissed"),
    "all": gettext_lazy("All"),
}


class AcceptForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("Problem title"), max_length=200, required=False,
                            help_text=gettext_lazy("Left empty: what recurs, and where."))


class DismissForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Why these incidents are not a problem"), max_length=4000,
                             widget=forms.Textarea(attrs={"rows": 3}))


def _check_reader(user: Any) -> None:
    if not may_read(user):
        raise PermissionDenied(_("Problem candidates are read by those who work problems."))


@login_required
@require_GET
def candidate_list_page(request: HttpRequest) -> HttpResponse:
    """The candidates, proposed first (the tab of the problem list), with their incidents."""
    _check_reader(request.user)
    state = request.GET.get("state")
    if state not in STATES:
        state = CandidateState.PROPOSED
    rows = candidate_list(user=request.user, state="" if state == "all" else state)
    page = CappedCountPaginator(rows, 25).get_page(request.GET.get("page"))
    first_incidents(page, user=request.user)
    return render(request, "problems/candidate_list.html", {
        "page": page, "state": state, "states": list(STATES.items()),
        "query": f"state={state}"})


def _get(user: Any, pk: int) -> Candidate:
    try:
        return candidate_get(user=user, pk=pk)
    except Candidate.DoesNotExist:
        raise Http404 from None


def _decisions(candidate: Candidate) -> list[TransitionLog]:
    where = {"content_type": ContentType.objects.get_for_model(Candidate), "object_id": candidate.pk}
    return list(TransitionLog.objects.filter(**where).select_related("actor").order_by("created_at", "pk"))


def _detail(request: HttpRequest, candidate: Candidate, *, accept: AcceptForm | None = None,
            dismiss: DismissForm | None = None, status: int = 200) -> HttpResponse:
    allowed = allowed_transition_names(candidate, request.user)
    return render(request, "problems/candidate_detail.html", {
        "candidate": candidate, "incidents": candidate.shown_incidents, "decisions": _decisions(candidate),
        "accept_form": (accept or AcceptForm()) if "accept" in allowed else None,
        "dismiss_form": (dismiss or DismissForm()) if "dismiss" in allowed else None,
    }, status=status)


@login_required
@require_GET
def candidate_detail_page(request: HttpRequest, pk: int) -> HttpResponse:
    """A candidate: where its incidents recur, the incidents, what was decided, and the decisions the user may
    take."""
    if not may_read(request.user):
        raise Http404
    return _detail(request, _get(request.user, pk))


@login_required
@require_POST
def candidate_decide(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    """Accept (the problem's page opens) or dismiss (with the reason)."""
    if not may_read(request.user) or name not in ("accept", "dismiss"):
        raise Http404
    candidate = _get(request.user, pk)
    form = (AcceptForm if name == "accept" else DismissForm)(request.POST)
    forms_ = {name: form}
    try:
        if not form.is_valid():
            raise InvalidInput({})
        if name == "accept":
            problem = candidate_accept(candidate, user=request.user, title=form.cleaned_data["title"])
            messages.success(request, _("%(number)s was identified from the candidate.") % {"number": problem.number})
            return redirect("problems:problem-detail", pk=problem.pk)
        candidate_dismiss(candidate, user=request.user, reason=form.cleaned_data["reason"])
    except InvalidInput as exc:
        if exc.detail:
            messages.error(request, detail_text(exc.detail))
        return _detail(request, candidate, status=400, **forms_)
    except OpsCenterError as exc:
        messages.error(request, detail_text(exc.detail))
        return _detail(request, _get(request.user, pk), status=exc.status_code)
    messages.success(request, _("The candidate was dismissed: these incidents will not be proposed again."))
    return redirect("problems:candidate-detail", pk=candidate.pk)
