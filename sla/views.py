"""Service level pages: a department's dashboard (this month and twelve months of trend), supervisors'
departments side by side, the monthly evaluation with its breaches, explain forms and publication, and the
monthly report as CSV and as a printable page. Department users reach only their own department; another
department is 404. Refusals of the services are shown on the page with their status, never as an error page."""

from datetime import date, timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext
from django.views.decorators.http import require_GET, require_POST

from incidents.choices import Priority
from opscenter.core import roles
from opscenter.core.exceptions import InvalidInput, OpsCenterError
from opscenter.core.formatting import humanise_duration
from opscenter.core.spreadsheets import csv_response
from opscenter.core.workflow import available_transitions
from sla import evaluations, metrics, selectors
from sla.choices import BreachKind, ClockKind, EvaluationState
from sla.forms import BreachExplainForm, PublishForm, apply_service_errors, it_staff
from sla.models import Evaluation
from sla.surveys.selectors import department_scores, survey_scores

# --- Presentation ----------------------------------------------------------------------------------------


def _duration(seconds: int | None) -> str:
    return humanise_duration(None if seconds is None else timedelta(seconds=seconds))


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}%"


def target_text(row: dict[str, Any]) -> str:
    """A response or resolution target as a department reads it: "2 business days", "4 business hours" on a
    business calendar, "4 h" or "3 days" round the clock; "" without a target."""
    minutes = row.get("target_minutes")
    if not minutes:
        return ""
    day = row.get("target_day_minutes")
    if row.get("target_round_the_clock") is False:
        if day and minutes >= day and minutes % day == 0:
            count = minutes // day
            return ngettext("%(count)d business day", "%(count)d business days", count) % {"count": count}
        if minutes < 60:
            return ngettext("%(count)d business minute", "%(count)d business minutes", minutes) % {"count": minutes}
        hours = minutes / 60
        return ngettext("%(count)s business hour", "%(count)s business hours", 1 if hours == 1 else 2) % {
            "count": f"{hours:g}" if minutes % 30 == 0 else f"{hours:.1f}"}
    if minutes % (24 * 60) == 0:
        count = minutes // (24 * 60)
        return ngettext("%(count)d day", "%(count)d days", count) % {"count": count}
    hours, rest = divmod(minutes, 60)
    if not hours:
        return _("%(minutes)d min") % {"minutes": rest}
    if not rest:
        return _("%(hours)d h") % {"hours": hours}
    return _("%(hours)d h %(minutes)02d min") % {"hours": hours, "minutes": rest}


def readable(figures: dict[str, Any]) -> dict[str, Any]:
    """A month's figures with what people read: labels in the current language, durations in hours and
    minutes, percentages with their sign."""
    priorities, kinds = dict(Priority.choices), dict(ClockKind.choices)
    return {
        **figures,
        "mtta": _duration(figures.get("mtta_seconds")),
        "mttr": _duration(figures.get("mttr_seconds")),
        "compliance_label": _percent(figures.get("compliance_percent")),
        "response_label": _percent(figures.get("response_percent")),
        "resolution_label": _percent(figures.get("resolution_percent")),
        "compliance_rows": [{**row, "priority_label": str(priorities.get(row["priority"], row["priority"])),
                             "kind_label": str(kinds.get(row["kind"], row["kind"])), "target_label": target_text(row),
                             "missed": row["total"] - row["met"], "percent_label": _percent(row["percent"])}
                            for row in figures.get("compliance", [])],
        "availability_rows": [{**row, "availability_label": "—" if row["availability"] is None
                               else f"{row['availability']:.3f}%", "target_label": f"{row['target']:.3f}%",
                               "downtime": _duration(round(row["downtime_seconds"]))}
                              for row in figures.get("availability", [])],
    }


def breach_rows(breaches: list[Any]) -> list[dict[str, Any]]:
    """Breaches (rows, or the records a published evaluation froze) as people read them: what missed which
    target, when in local time, and whether it is explained."""
    kinds = dict(BreachKind.choices)
    rows = []
    for breach in breaches:
        record = breach if isinstance(breach, dict) else evaluations.breach_record(breach)
        rows.append({"record": record, "subject": record["incident"] or record.get("service", ""),
                     "kind_label": str(kinds.get(record["kind"], record["kind"])),
                     "breached_at": parse_datetime(record["breached_at"]),
                     "explained": True if isinstance(breach, dict) else breach.is_explained})
    return rows


def trend_chart(trend: list[dict[str, Any]]) -> dict[str, Any]:
    """The twelve months as series for the charts (the tables beside them show the same numbers)."""
    services: dict[str, list[float | None]] = {}
    targets: dict[str, float] = {}
    for index, month in enumerate(trend):
        for row in month["availability"]:
            services.setdefault(row["name"], [None] * len(trend))[index] = row["availability"]
            targets[row["name"]] = row["target"]  # the latest month's target
    return {
        "months": [m["month"] for m in trend],
        "compliance": [m["compliance_percent"] for m in trend],
        "response": [m["response_percent"] for m in trend],
        "resolution": [m["resolution_percent"] for m in trend],
        "mtta": [None if m["mtta_seconds"] is None else round(m["mtta_seconds"] / 60, 1) for m in trend],
        "mttr": [None if m["mttr_seconds"] is None else round(m["mttr_seconds"] / 60, 1) for m in trend],
        "breaches": [m["breaches"] for m in trend],
        "availability": [{"name": name, "values": values, "target": targets[name]}
                         for name, values in services.items()],
        "labels": {"compliance": _("Targets met (%)"), "response": _("Response"),
                   "resolution": pgettext("service level", "Resolution"),
                   "mtta": _("MTTA (minutes)"), "mttr": _("MTTR (minutes)"), "breaches": _("Breaches"),
                   "target": _("Target"), "minutes": _("minutes")},
    }


def _month_or_404(text: str) -> date:
    month = selectors.parse_month(text)
    if month is None or month > metrics.current_month():
        raise Http404
    return month


def _picked_month(request: HttpRequest) -> tuple[date, bool]:
    """The month asked for with ?month=YYYY-MM (this month by default) and whether it was valid."""
    month = selectors.parse_month(request.GET.get("month"), metrics.current_month())
    if month is None or month > metrics.current_month():
        return metrics.current_month(), False
    return month, True


# --- Dashboards ------------------------------------------------------------------------------------------


@login_required
@require_GET
def sla_home(request: HttpRequest) -> HttpResponse:
    """A department user's own dashboard; IT staff, supervisors and auditors compare every department."""
    if selectors.sees_all_departments(request.user):
        return departments_overview(request)
    if not request.user.department_id or not roles.has_role(request.user, roles.DEPARTMENT_USER):
        raise Http404
    return department_dashboard(request, request.user.department_id)


def departments_overview(request: HttpRequest) -> HttpResponse:
    """Every department's month side by side (compliance, MTTA, MTTR, breaches, services below target, and
    the satisfaction of its answered surveys)."""
    month, valid = _picked_month(request)
    departments = list(selectors.department_list(user=request.user))
    figures = metrics.departments_side_by_side(month, department_ids=[d.pk for d in departments])
    start, end = metrics.month_bounds(month)
    scores = department_scores(start=start, end=end)
    rows = [{"department": d, "figures": readable(figures[d.pk]), "satisfaction": scores.get(d.pk)}
            for d in departments]
    chart = {"departments": [r["department"].name for r in rows],
             "compliance": [r["figures"]["compliance_percent"] for r in rows],
             "label": _("Within target (%)")}
    return render(request, "sla/overview.html", {
        "month": month, "rows": rows, "chart": chart, "months": selectors.month_choices(),
    }, status=200 if valid else 400)


@login_required
@require_GET
def department_dashboard(request: HttpRequest, pk: int) -> HttpResponse:
    """A department's month (this month by default) and its twelve-month trend, with the published evaluations."""
    department = selectors.department_get(user=request.user, pk=pk)
    month, valid = _picked_month(request)
    trend = metrics.department_trend(department.pk, month)
    published = list(selectors.evaluation_list(user=request.user).filter(
        department=department, state=EvaluationState.PUBLISHED)[:12])
    start, end = metrics.month_bounds(month)
    satisfaction = survey_scores(start=start, end=end, department=department)
    return render(request, "sla/dashboard.html", {
        "satisfaction": satisfaction,
        "satisfaction_tables": [(_("Team"), satisfaction["by_team"]), (_("Service"), satisfaction["by_service"])],
        "department": department, "month": month, "figures": readable(trend[-1]),
        "trend": [readable(m) for m in trend], "chart": trend_chart(trend), "published": published,
        "months": selectors.month_choices(), "sees_all": selectors.sees_all_departments(request.user),
    }, status=200 if valid else 400)


# --- Evaluations -----------------------------------------------------------------------------------------


@login_required
@require_GET
def evaluation_list(request: HttpRequest) -> HttpResponse:
    """Evaluations: department users read their published months; supervisors see drafts too."""
    rows = list(selectors.evaluation_list(user=request.user)[:120])
    return render(request, "sla/evaluation_list.html", {
        "evaluations": rows, "departments": list(selectors.department_list(user=request.user))
        if evaluations.may_manage_evaluations(request.user) else [],
        "months": selectors.month_choices(), "may_manage": evaluations.may_manage_evaluations(request.user),
    })


def _evaluation_context(request: HttpRequest, department_id: int, month_text: str) -> dict[str, Any]:
    """The department, month, evaluation (if any) and the figures to show: frozen once published, live
    before. A department user reads only their department's published month (else 404)."""
    department = selectors.department_get(user=request.user, pk=department_id)
    month = _month_or_404(month_text)
    evaluation = selectors.evaluation_get(user=request.user, department_id=department.pk, month=month)
    if evaluation is None and not selectors.sees_all_departments(request.user):
        raise Http404
    published = evaluation is not None and evaluation.state == EvaluationState.PUBLISHED
    figures = evaluation.figures if published else metrics.department_month(department.pk, month)
    breaches = figures.get("breach_list", []) if published else list(
        evaluations.month_breaches(department.pk, month))
    return {"department": department, "month": month, "evaluation": evaluation, "published": published,
            "figures": readable(figures), "breaches": breaches}


@login_required
@require_GET
def evaluation_detail(request: HttpRequest, department_id: int, month: str) -> HttpResponse:
    """The evaluation of a department and month: figures, breaches with their explanations, and for
    supervisors and IT staff the explain forms; for supervisors, refresh and publish."""
    context = _evaluation_context(request, department_id, month)
    return _render_evaluation(request, context)


def _render_evaluation(request: HttpRequest, context: dict[str, Any], status: int = 200,
                       forms_by_breach: dict[int, BreachExplainForm] | None = None,
                       publish_form: PublishForm | None = None) -> HttpResponse:
    may_explain = evaluations.may_explain_breaches(request.user) and not context["published"]
    forms_by_breach = forms_by_breach or {}
    if may_explain:
        owners = list(it_staff())
        for breach in context["breaches"]:
            forms_by_breach.setdefault(breach.pk, BreachExplainForm(prefix=f"b{breach.pk}", owners=owners, initial={
                "explanation": breach.explanation, "corrective_action": breach.corrective_action,
                "action_owner": breach.action_owner_id, "action_due": breach.action_due}))
    rows = [{**row, "form": forms_by_breach.get(row["record"]["id"])} for row in breach_rows(context["breaches"])]
    unexplained = sum(1 for b in context["breaches"] if not context["published"] and not b.is_explained)
    # A month not prepared yet is published as a draft would be (the view prepares it first); the breaches
    # are on the page already, so the rule reads them rather than asking again.
    evaluation = context["evaluation"]
    if evaluation is None:
        evaluation = Evaluation(department=context["department"], month=context["month"])
        evaluation.has_unexplained_breaches = bool(unexplained)
    publish = next((t for t in available_transitions(evaluation, request.user) if t.name == "publish"), None)
    return render(request, "sla/evaluation_detail.html", {
        **context, "rows": rows, "may_explain": may_explain, "publish": publish,
        "may_manage": evaluations.may_manage_evaluations(request.user) and not context["published"],
        "publish_form": publish_form or PublishForm(initial={"summary": getattr(context["evaluation"], "summary", "")}),
        "month_text": f"{context['month']:%Y-%m}",
        "unexplained": unexplained,
    }, status=status)


def _back(department_id: int, month: date) -> HttpResponse:
    return redirect(reverse("sla:evaluation-detail", args=[department_id, f"{month:%Y-%m}"]))


@login_required
@require_POST
def evaluation_prepare(request: HttpRequest, department_id: int, month: str) -> HttpResponse:
    """Create or refresh the draft from the current figures (supervisors)."""
    context = _evaluation_context(request, department_id, month)
    try:
        evaluations.evaluation_prepare(department=context["department"], month=context["month"], user=request.user)
    except OpsCenterError as error:
        messages.error(request, str(error.detail))
        return _render_evaluation(request, context, status=error.status_code)
    messages.success(request, _("The draft evaluation was refreshed from the current figures."))
    return _back(department_id, context["month"])


@login_required
@require_POST
def evaluation_publish(request: HttpRequest, department_id: int, month: str) -> HttpResponse:
    """Publish the month to the department (supervisors; every breach explained first)."""
    context = _evaluation_context(request, department_id, month)
    form = PublishForm(request.POST)
    try:
        if not form.is_valid():
            raise InvalidInput(form.errors)
        evaluation = context["evaluation"] or evaluations.evaluation_prepare(
            department=context["department"], month=context["month"], user=request.user)
        evaluations.evaluation_publish(evaluation=evaluation, user=request.user, summary=form.cleaned_data["summary"])
    except OpsCenterError as error:
        messages.error(request, str(error.detail))
        # Read again: the refusal may have recorded availability misses, now listed to be explained.
        context = _evaluation_context(request, department_id, month)
        return _render_evaluation(request, context, status=error.status_code, publish_form=form)
    messages.success(request, _("The evaluation was published to the department."))
    return _back(department_id, context["month"])


@login_required
@require_POST
def breach_explain(request: HttpRequest, pk: int) -> HttpResponse:
    """Explain a breach with the corrective action, its owner and due date (supervisors and IT staff)."""
    breach = get_object_or_404(selectors.breach_list(user=request.user), pk=pk)
    if not breach.department_id:
        raise Http404
    month = metrics.month_start(timezone.localdate(breach.breached_at))
    form = BreachExplainForm(request.POST, prefix=f"b{breach.pk}")
    try:
        if not form.is_valid():
            raise InvalidInput(form.errors)
        evaluations.breach_explain(breach=breach, user=request.user, **form.cleaned_data)
    except OpsCenterError as error:
        if form.is_bound and hasattr(form, "cleaned_data") and isinstance(error.detail, dict):
            apply_service_errors(form, {k: v for k, v in error.detail.items() if k not in form.errors})
        messages.error(request, _("The breach of %(incident)s was not saved.") % {
            "incident": evaluations.breach_subject(breach)} if error.status_code == 400 else str(error.detail))
        context = _evaluation_context(request, breach.department_id, f"{month:%Y-%m}")
        return _render_evaluation(request, context, status=error.status_code, forms_by_breach={breach.pk: form})
    messages.success(request, _("The explanation of %(incident)s was saved.") % {
        "incident": evaluations.breach_subject(breach)})
    return _back(breach.department_id, month)


# --- The monthly report ----------------------------------------------------------------------------------


def _report_context(request: HttpRequest, department_id: int, month: str) -> dict[str, Any]:
    """What the report shows: a department user only a published month (else 404)."""
    context = _evaluation_context(request, department_id, month)
    return {**context, "breach_rows": breach_rows(context["breaches"])}


def _report_rows(context: dict[str, Any]) -> list[list[Any]]:
    figures = context["figures"]
    rows: list[list[Any]] = [
        ["department", "", context["department"].name],
        ["month", "", figures["month"]],
        ["state", "", "published" if context["published"] else "draft"],
        ["compliance_percent", "", figures["compliance_percent"]],
        ["response_percent", "", figures["response_percent"]],
        ["resolution_percent", "", figures["resolution_percent"]],
        ["mtta_minutes", "", "" if figures["mtta_seconds"] is None else round(figures["mtta_seconds"] / 60, 1)],
        ["mttr_minutes", "", "" if figures["mttr_seconds"] is None else round(figures["mttr_seconds"] / 60, 1)],
        ["breaches", "", figures["breaches"]],
    ]
    for row in figures["compliance"]:
        rows.append([f"compliance_{row['kind']}", row["priority"], row["percent"], row["met"], row["total"],
                     row["target_minutes"]])
    for row in figures["availability"]:
        rows.append(["availability", row["code"], row["availability"], row["target"],
                     "breached" if row["breached"] else "met", row["downtime_seconds"]])
    for breach in context["breaches"]:
        record = breach if isinstance(breach, dict) else evaluations.breach_record(breach)
        rows.append(["breach", record["incident"] or record.get("service", ""), record["kind"],
                     record["breached_at"], record["explanation"], record["corrective_action"],
                     record["action_owner"], record["action_due"] or ""])
    return rows


@login_required
@require_GET
def evaluation_csv(request: HttpRequest, department_id: int, month: str) -> HttpResponse:
    """The monthly report as CSV (UTF-8 with a byte-order mark for spreadsheet programs)."""
    context = _report_context(request, department_id, month)
    return csv_response(f"sla-{department_id}-{context['month']:%Y-%m}.csv",
                        [["section", "key", "value", "more"], *_report_rows(context)])


@login_required
@require_GET
def evaluation_print(request: HttpRequest, department_id: int, month: str) -> HttpResponse:
    """The monthly report as a page made for printing or saving as PDF."""
    context = _report_context(request, department_id, month)
    return render(request, "sla/evaluation_print.html", context)

