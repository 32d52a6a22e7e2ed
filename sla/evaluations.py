"""The monthly evaluation of a department (定期評估): a draft refreshed from the metrics, breaches explained
with a corrective action, owner and due date (未達到SLA要求…及時採取改進措施，並向相關部門說明原因), and the
publication (the evaluation's `publish` transition) that freezes the figures and tells the department."""

from datetime import date
from typing import Any

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from opscenter.core import roles
from opscenter.core.exceptions import ConditionFailed, InvalidInput, ReadOnlyRecord, TransitionForbidden
from opscenter.core.models import Department, User
from opscenter.core.outbox import notify
from opscenter.core.services import perform_transition
from opscenter.core.workflow import get_transition
from sla import metrics
from sla.choices import BreachKind, EvaluationState
from sla.models import Breach, Evaluation, month_is_over
from sla.notifications import EVALUATION_PUBLISHED


def may_manage_evaluations(user: Any) -> bool:
    """Supervisors prepare and publish evaluations (運維主管)."""
    return bool(user and user.is_authenticated and user.is_active and roles.has_role(user, roles.SUPERVISOR))


def may_explain_breaches(user: Any) -> bool:
    """Supervisors and IT staff explain breaches and name the corrective action."""
    return bool(user and user.is_authenticated and user.is_active and roles.has_role(user, *roles.IT_STAFF))


def month_breaches(department_id: int, month: date):  # noqa: ANN201
    """Breaches of a department recorded in a month, oldest first, with their incident and owner."""
    start, end = metrics.month_bounds(month)
    return (Breach.objects.filter(department_id=department_id, breached_at__gte=start, breached_at__lt=end)
            .select_related("incident", "service", "action_owner", "explained_by").order_by("breached_at", "pk"))


def breach_subject(breach: Breach) -> str:
    """What missed the target, as people name it: the incident's number, or the service whose availability
    came in below target."""
    return breach.incident.number if breach.incident_id else str(breach.service)


def unexplained(breaches) -> list[Breach]:  # noqa: ANN001
    return [b for b in breaches if not b.is_explained]


def breach_record(breach: Breach) -> dict[str, Any]:
    """A breach as the published evaluation keeps it."""
    return {
        "id": breach.pk, "incident": breach.incident.number if breach.incident_id else "",
        "incident_id": breach.incident_id, "title": breach.incident.title if breach.incident_id else "",
        "service": str(breach.service) if breach.service_id else "", "service_id": breach.service_id,
        "kind": breach.kind, "breached_at": breach.breached_at.isoformat(),
        "explanation": breach.explanation, "corrective_action": breach.corrective_action,
        "action_owner": str(breach.action_owner) if breach.action_owner else "",
        "action_due": breach.action_due.isoformat() if breach.action_due else None,
    }


def _check_month(month: date) -> date:
    if not isinstance(month, date):
        raise InvalidInput(_("Give the month as YYYY-MM."), code="invalid_month")
    month = metrics.month_start(month)
    if month > metrics.current_month():
        raise InvalidInput(_("A month in the future cannot be evaluated."), code="invalid_month")
    return month


@transaction.atomic
def evaluation_prepare(*, department: Department, month: date, user: Any) -> Evaluation:
    """Create or refresh the draft evaluation of a department and month from the current figures; a
    published evaluation is never recomputed (409)."""
    if not may_manage_evaluations(user):
        raise TransitionForbidden(_("Only a supervisor prepares monthly evaluations."))
    month = _check_month(month)
    evaluation, _created = Evaluation.objects.select_for_update().get_or_create(department=department, month=month)
    if evaluation.state == EvaluationState.PUBLISHED:
        raise ReadOnlyRecord(_("This evaluation is published; its figures no longer change."))
    availability_breaches_record(department_id=department.pk, month=month)
    evaluation.figures = metrics.department_month(department.pk, month)
    evaluation.save(update_fields=["figures"])
    return evaluation


@transaction.atomic
def availability_breaches_record(*, department_id: int | None, month: date) -> int:
    """Record each service that came in below its availability target over a finished month, once per
    department, service and month, so that it is explained like any other breach before the month is published
    (`department_id` None: every department). A recorded miss the corrected outages no longer show is removed
    while nothing of its explanation is written; a published month is left as it was published. Returns how
    many were recorded."""
    month = metrics.month_start(month)
    if month >= metrics.current_month():
        return 0
    closed = set(Evaluation.objects.filter(month=month, state=EvaluationState.PUBLISHED)
                 .values_list("department_id", flat=True))
    recorded = Breach.objects.select_for_update().filter(kind=BreachKind.AVAILABILITY, month=month).exclude(
        department_id__in=closed)
    if department_id is not None:
        recorded = recorded.filter(department_id=department_id)
    kept = {(b.department_id, b.service_id): b for b in recorded}
    misses = [m for m in metrics.availability_misses(
        department_ids=None if department_id is None else [department_id], month=month)
        if m["department_id"] not in closed]
    missed = {(m["department_id"], m["service_id"]) for m in misses}
    stale = [b.pk for key, b in kept.items() if key not in missed and not (
        b.explanation or b.corrective_action or b.action_owner_id or b.action_due)]
    Breach.objects.filter(pk__in=stale).delete()
    new = [Breach(kind=BreachKind.AVAILABILITY, department_id=m["department_id"], service_id=m["service_id"],
                  month=month, breached_at=m["breached_at"])
           for m in misses if (m["department_id"], m["service_id"]) not in kept]
    Breach.objects.bulk_create(new, ignore_conflicts=True)
    return len(new)


@transaction.atomic
def breach_explain(*, breach: Breach, user: Any, explanation: str, corrective_action: str,
                   action_owner: User | None, action_due: date | None) -> Breach:
    """Record why a target was missed and the corrective action with its owner and due date; refused once the
    month's evaluation is published (its explanations are part of what the department read)."""
    if not may_explain_breaches(user):
        raise TransitionForbidden(_("Only supervisors and IT staff explain breaches."))
    breach = Breach.objects.select_for_update().get(pk=breach.pk)
    month = metrics.month_start(timezone.localdate(breach.breached_at))
    if breach.department_id and Evaluation.objects.filter(
            department_id=breach.department_id, month=month, state=EvaluationState.PUBLISHED).exists():
        raise ReadOnlyRecord(_("The evaluation of this month is published; its breaches can no longer change."))
    errors = {}
    if not (explanation or "").strip():
        errors["explanation"] = [_("Say why the target was missed.")]
    if not (corrective_action or "").strip():
        errors["corrective_action"] = [_("Name the corrective action.")]
    if action_owner is None:
        errors["action_owner"] = [_("Name who owns the corrective action.")]
    elif not action_owner.is_active or not roles.has_role(action_owner, *roles.IT_STAFF):
        errors["action_owner"] = [_("The owner must be an active member of the IT staff.")]
    if action_due is None:
        errors["action_due"] = [_("Give the date the action is due.")]
    elif action_due < timezone.localdate(breach.breached_at):
        errors["action_due"] = [_("The action cannot be due before the breach happened.")]
    if errors:
        raise InvalidInput(errors)
    breach.explanation, breach.corrective_action = explanation.strip(), corrective_action.strip()
    breach.action_owner, breach.action_due = action_owner, action_due
    breach.explained_by, breach.explained_at = user, timezone.now()
    breach.save(update_fields=["explanation", "corrective_action", "action_owner", "action_due",
                               "explained_by", "explained_at"])
    return breach


def _recipients(department_id: int) -> list[User]:
    return list(User.objects.filter(department_id=department_id, is_active=True,
                                    groups__name=roles.DEPARTMENT_USER).distinct())


def frozen_figures(department_id: int, month: date) -> dict[str, Any]:
    """The month's figures with its breaches as the published evaluation keeps them."""
    figures = metrics.department_month(department_id, month)
    figures["breach_list"] = [breach_record(b) for b in month_breaches(department_id, month)]
    figures["published_at"] = timezone.now().isoformat()
    return figures


def evaluation_publish(*, evaluation: Evaluation, user: Any, summary: str | None = None) -> Evaluation:
    """Freeze the month's figures and breach explanations and publish them to the department (`publish`).
    Refused (409) while any breach of the department and month is unexplained, a service's availability
    below target included (`unexplained_breaches`, with the list), before the month is over
    (`month_not_over`), or when already published. The month's availability misses are recorded first, in a
    transaction of their own, so that a refusal leaves them listed to be explained."""
    if may_manage_evaluations(user) and evaluation.state == EvaluationState.DRAFT:
        availability_breaches_record(department_id=evaluation.department_id, month=evaluation.month)
    return _publish(evaluation=evaluation, user=user, summary=summary)


@transaction.atomic
def _publish(*, evaluation: Evaluation, user: Any, summary: str | None) -> Evaluation:
    locked = Evaluation.objects.select_for_update().get(pk=evaluation.pk)
    _check_named_rules(locked, user)
    evaluation = perform_transition(locked, "publish", user=user, data={"summary": summary})
    _announce(evaluation)
    return evaluation


def _check_named_rules(evaluation: Evaluation, user: Any) -> None:
    """Once the user may publish from this state, the policy's two rules refuse with codes of their own (and
    the breaches still to explain); every other refusal is the transition's own (403, 409)."""
    transition = get_transition(evaluation, "publish")
    if transition is None or not transition.has_perm(evaluation, user):
        return
    if not month_is_over(evaluation):
        raise ConditionFailed(_("A month is published once it is over."), code="month_not_over")
    missing = unexplained(month_breaches(evaluation.department_id, evaluation.month))
    if missing:
        raise ConditionFailed(
            _("Every breach needs an explanation and a corrective action with owner and due date before the "
              "evaluation is published (%(count)d left).") % {"count": len(missing)},
            code="unexplained_breaches",
            extra={"breaches": [{"id": b.pk, "incident": b.incident.number if b.incident_id else None,
                                 "service": b.service_id, "kind": b.kind} for b in missing]})


def _announce(evaluation: Evaluation) -> None:
    """Tell the department's users through the outbox that their month is published."""
    month = f"{evaluation.month:%Y-%m}"
    notify(kind=EVALUATION_PUBLISHED, recipients=_recipients(evaluation.department_id),
           params={"department": evaluation.department_id, "month": month, "evaluation": evaluation.pk,
                   "summary": evaluation.summary},
           link=reverse("sla:evaluation-detail", args=[evaluation.department_id, month]))
