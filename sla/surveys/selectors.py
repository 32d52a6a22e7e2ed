"""Read queries of satisfaction shared by pages, the API and dashboards: what each user may read (a department
user sees only their own department's), the contacts a campaign invites, and the scores and results."""

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db.models import Avg, Count, Exists, F, Func, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce, Lower
from django.utils import timezone

from opscenter.core import roles
from opscenter.core.models import Department, User
from opscenter.core.roles import has_role
from sla.choices import CampaignState, QuestionKind, SurveyState
from sla.surveys.models import Campaign, CampaignAnswer, CampaignInvitation, FollowUp, Survey


def department_contacts(departments: Iterable[Department]) -> list[tuple[User, Department]]:
    """The contacts a campaign invites in each department: its active users holding the department_user role,
    and, when the department has a contact email, the active user(s) with that address (compared without
    case) whatever their department. A person is invited once, for the first department that names them."""
    departments = list(departments)
    by_email = {d.contact_email.lower(): d for d in departments if d.contact_email}
    by_id = {d.pk: d for d in departments}
    holds_role = Exists(User.groups.through.objects.filter(user_id=OuterRef("pk"), group__name=roles.DEPARTMENT_USER))
    users = (User.objects.filter(is_active=True).annotate(email_lower=Lower("email"), department_user=holds_role)
             .filter(Q(department__in=by_id, department_user=True) | Q(email_lower__in=by_email)).order_by("pk"))
    contacts: list[tuple[User, Department]] = []
    for user in users:
        own = by_id.get(user.department_id) if user.department_user else None
        contacts.append((user, own or by_email[user.email_lower]))
    return contacts




def surveys_waiting(*, user: User, now: datetime | None = None) -> QuerySet[Survey]:
    """Incident surveys sent to the user that they can still answer, the soonest to expire first."""
    now = now or timezone.now()
    return (Survey.objects.filter(respondent=user, state=SurveyState.SENT)
            .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
            .select_related("incident").order_by(F("expires_at").asc(nulls_last=True), "pk"))


def invitations_waiting(*, user: User, now: datetime | None = None) -> QuerySet[CampaignInvitation]:
    """Questionnaires the user is invited to and has not answered while their campaign is open."""
    now = now or timezone.now()
    return (CampaignInvitation.objects.filter(respondent=user, answered_at__isnull=True,
                                              campaign__state=CampaignState.OPEN, campaign__closes_at__gt=now)
            .select_related("campaign").order_by("campaign__closes_at", "pk"))


def _counted(qs: QuerySet) -> Coalesce:
    return Coalesce(Subquery(qs.order_by().annotate(n=Func(F("pk"), function="COUNT")).values("n")[:1]), 0)


def waiting_count(user: User) -> int:
    """How many surveys and questionnaires wait for a department user's answer (one query; 0 without one for
    everyone else)."""
    if not user.is_authenticated or not has_role(user, roles.DEPARTMENT_USER):
        return 0
    now = timezone.now()
    row = User.objects.filter(pk=user.pk).annotate(
        waiting_surveys=_counted(surveys_waiting(user=user, now=now).filter(respondent=OuterRef("pk"))),
        waiting_invitations=_counted(invitations_waiting(user=user, now=now).filter(respondent=OuterRef("pk")))
    ).values_list("waiting_surveys", "waiting_invitations").first()
    return sum(row) if row else 0


def may_read_surveys(user: User) -> bool:
    """Supervisors and auditors read every survey; a department user reads their own department's."""
    return user.has_perm("sla.view_survey") or (has_role(user, roles.DEPARTMENT_USER) and bool(user.department_id))


def survey_list(*, user: User) -> QuerySet[Survey]:
    """Surveys the user may read, with what a row shows; another department's appear nowhere."""
    qs = Survey.objects.select_related("incident", "respondent", "department", "team", "service", "follow_up")
    if user.has_perm("sla.view_survey"):
        return qs
    if has_role(user, roles.DEPARTMENT_USER) and user.department_id:
        return qs.filter(department_id=user.department_id)
    return qs.none()


def follow_up_list(*, user: User) -> QuerySet[FollowUp]:
    """Follow-ups of low scores, open first (supervisors and auditors)."""
    qs = FollowUp.objects.select_related("survey__incident", "survey__respondent", "survey__department",
                                         "closed_by")
    return qs if user.has_perm("sla.view_followup") else qs.none()


def campaign_list(*, user: User) -> QuerySet[Campaign]:
    """Campaigns with their invitation and answer counts (supervisors and auditors)."""
    qs = Campaign.objects.select_related("created_by").annotate(
        invited=Count("invitations", distinct=True),
        answered=Count("invitations", filter=Q(invitations__answered_at__isnull=False), distinct=True)
    ).order_by("-created_at", "-pk")  # a grouped query drops Meta.ordering
    return qs if user.has_perm("sla.view_campaign") else qs.none()


def _group(rows: QuerySet, key: str, label: str) -> list[dict[str, Any]]:
    return [{"id": r[key], "name": r[label], "average": _round(r["average"]), "count": r["count"]}
            for r in rows.exclude(**{key: None}).values(key, label).annotate(
                average=Avg("score"), count=Count("pk")).order_by(label)]


def survey_scores(*, start: datetime, end: datetime, department: Department | int | None = None
                  ) -> dict[str, Any]:
    """Average score and count of the incident surveys answered in [start, end), overall and per department,
    team and service; `department` narrows every figure to that department (what its own users read)."""
    qs = Survey.objects.filter(state=SurveyState.ANSWERED, answered_at__gte=start, answered_at__lt=end)
    if department is not None:
        qs = qs.filter(department_id=getattr(department, "pk", department))
    total = qs.aggregate(average=Avg("score"), count=Count("pk"))
    return {"average": _round(total["average"]),
            "count": total["count"],
            "by_department": _group(qs, "department_id", "department__name"),
            "by_team": _group(qs, "team_id", "team__name"),
            "by_service": _group(qs, "service_id", "service__name")}


def department_scores(*, start: datetime, end: datetime) -> dict[int, dict[str, Any]]:
    """Per department: the average score and count of the incident surveys answered in [start, end) (one
    query; what supervisors compare side by side)."""
    answered = Survey.objects.filter(state=SurveyState.ANSWERED, answered_at__gte=start, answered_at__lt=end)
    return {row["id"]: row for row in _group(answered, "department_id", "department__name")}


def campaign_results(campaign: Campaign, *, department: Department | int | None = None) -> dict[str, Any]:
    """A campaign's results: per question (average score, count, the text answers), and the score answers
    averaged per department, per team and per service the questions are about; `department` narrows them."""
    answers = CampaignAnswer.objects.filter(invitation__campaign=campaign)
    invitations = CampaignInvitation.objects.filter(campaign=campaign)
    if department is not None:
        department_id = getattr(department, "pk", department)
        answers, invitations = answers.filter(invitation__department_id=department_id), invitations.filter(
            department_id=department_id)
    scores = answers.filter(question__kind=QuestionKind.SCORE)
    per_question = {r["question_id"]: r for r in scores.values("question_id").annotate(
        average=Avg("score"), count=Count("pk"))}
    texts: dict[int, list[str]] = {}
    for question_id, text in answers.filter(question__kind=QuestionKind.TEXT).order_by("pk").values_list(
            "question_id", "text"):
        texts.setdefault(question_id, []).append(text)
    questions = [{"id": q.pk, "text": q.text, "kind": q.kind, "team": q.team.name if q.team else None,
                  "service": q.service.name if q.service else None,
                  "average": _round(per_question.get(q.pk, {}).get("average")),
                  "count": per_question.get(q.pk, {}).get("count", 0) if q.kind == QuestionKind.SCORE
                  else len(texts.get(q.pk, [])),
                  "answers": texts.get(q.pk, [])}
                 for q in campaign.questions.select_related("team", "service")]
    counts = invitations.aggregate(invited=Count("pk"), answered=Count("pk", filter=Q(answered_at__isnull=False)))
    return {"campaign": campaign.pk, "invited": counts["invited"], "answered": counts["answered"],
            "questions": questions,
            "by_department": _group(scores.annotate(department_id=F("invitation__department_id"),
                                                    department_name=F("invitation__department__name")),
                                    "department_id", "department_name"),
            "by_team": _group(scores, "question__team_id", "question__team__name"),
            "by_service": _group(scores, "question__service_id", "question__service__name")}


def _round(value: float | None) -> float | None:
    return round(value, 2) if value is not None else None


