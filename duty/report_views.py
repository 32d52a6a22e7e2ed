"""The duty report page (remind part): hours on duty per person and month, lateness, absences and swaps, for
supervisors and auditors; as a page or a CSV download."""

from datetime import date, datetime
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from duty.models import DutyPolicy
from duty.reports import csv_rows, duty_report
from opscenter.core import roles
from opscenter.core.forms import StyledForm
from opscenter.core.models import Team
from opscenter.core.roles import has_role
from opscenter.core.spreadsheets import csv_response


class DutyReportForm(StyledForm):
    """The month (this month by default) and one team or all."""

    month = forms.CharField(label=_("Month"), required=False, widget=forms.TextInput(attrs={"type": "month"}))
    team = forms.ModelChoiceField(label=_("Team"), required=False, empty_label=_("Every team"),
                                  queryset=Team.objects.filter(is_active=True, shift_types__isnull=False).distinct())

    def clean_month(self) -> date | None:
        value = self.cleaned_data.get("month") or ""
        if not value:
            return None
        try:
            month = datetime.strptime(value, "%Y-%m").date()
        except ValueError:
            raise forms.ValidationError(_("Give a month as YYYY-MM, e.g. 2026-11.")) from None
        if not 2000 <= month.year <= 2100:
            raise forms.ValidationError(_("Give a month between 2000 and 2100."))
        return month


@login_required
@require_GET
def duty_report_page(request: HttpRequest) -> HttpResponse:
    """Hours on duty (day, night, weekend, holiday), lateness, absences and approved swaps per person for a month;
    ?format=csv downloads it. Supervisors and auditors read it; a bad month or team is a 400 that says why."""
    if not has_role(request.user, roles.SUPERVISOR, roles.AUDITOR):
        raise PermissionDenied
    policy = DutyPolicy.current()
    form = DutyReportForm(request.GET or None)
    valid = not form.is_bound or form.is_valid()
    data: dict[str, Any] = form.cleaned_data if form.is_bound and valid else {}
    month = data.get("month") or timezone.localdate(timezone=policy.zone).replace(day=1)
    team = data.get("team")
    rows = duty_report(month, team=team, policy=policy) if valid else []
    if request.GET.get("format") == "csv" and valid:
        suffix = f"-{team.code}" if team is not None else ""
        return csv_response(f"duty-report-{month:%Y-%m}{suffix}.csv", csv_rows(rows))
    totals = {name: round(sum(getattr(row, name) for row in rows), 2) for name in (
        "shifts", "total", "day", "night", "weekend", "holiday", "late", "late_minutes", "absences", "swaps_given",
        "swaps_taken")}
    query = request.GET.copy()
    query["format"] = "csv"
    return render(request, "duty/remind_report.html", {
        "form": form, "month": month, "team": team, "rows": rows, "totals": totals, "policy": policy,
        "csv_query": query.urlencode(),
    }, status=200 if valid else 400)
