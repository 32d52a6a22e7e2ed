"""The risk level of a change: the questionnaire's weighted answers plus the policy's rules."""

from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from changes.choices import RISK_ORDER, ChangeType, RiskLevel, risk_rank
from opscenter.core.choices import Criticality

# Rules that raise the level the questionnaire gives, and what people are told about them.
RULE_LABELS = {
    "critical_service": _("It touches a critical service: at least high."),
    "important_service": _("It touches a high-criticality service: at least medium."),
    "short_lead_time": _("Too little lead time before the window: one level higher."),
    "rollback_untested": _("The rollback has not been tested: at least medium."),
}


@dataclass
class RiskResult:
    score: int
    level: str
    reasons: list[str] = field(default_factory=list)


def questionnaire_score(answers: dict) -> int:
    """Sum of the weights of the chosen answers; every active question must be answered once."""
    from changes.models import RiskOption, RiskQuestion

    questions = {q.pk: q for q in RiskQuestion.objects.filter(is_active=True)}
    chosen = {}
    for key, value in (answers or {}).items():
        try:
            chosen[int(key)] = int(value)
        except (TypeError, ValueError):
            raise ValidationError({"risk_answers": _("Answers map question ids to answer ids.")}) from None
    missing = [str(q) for pk, q in questions.items() if pk not in chosen]
    if missing:
        raise ValidationError({"risk_answers": _("Answer every risk question: %(questions)s") % {
            "questions": "; ".join(missing)}})
    options = {o.pk: o for o in RiskOption.objects.filter(pk__in=chosen.values(), question_id__in=questions)}
    wrong = [q for q, o in chosen.items() if q in questions and (o not in options or options[o].question_id != q)]
    if wrong:
        raise ValidationError({"risk_answers": _("An answer does not belong to its question.")})
    return sum(options[o].weight for q, o in chosen.items() if q in questions)


def level_for_score(score: int) -> str:
    from changes.models import ApprovalRule

    rule = ApprovalRule.objects.filter(min_score__lte=score).order_by("-min_score").first()
    return rule.risk_level if rule else RiskLevel.LOW


def _at_least(level: str, floor: str) -> str:
    return floor if risk_rank(floor) > risk_rank(level) else level


def assess_risk(change) -> RiskResult:  # noqa: ANN001
    """Score the questionnaire and apply the rules. A standard change from an approved template is low."""
    if change.change_type == ChangeType.STANDARD:
        return RiskResult(score=0, level=RiskLevel.LOW)
    score = questionnaire_score(change.risk_answers)
    level = level_for_score(score)
    reasons = []
    criticalities = set(change.services.values_list("criticality", flat=True)) | set(
        change.configuration_items.values_list("services__criticality", flat=True))
    if Criticality.CRITICAL in criticalities:
        level, reasons = _at_least(level, RiskLevel.HIGH), [*reasons, "critical_service"]
    elif Criticality.HIGH in criticalities:
        level, reasons = _at_least(level, RiskLevel.MEDIUM), [*reasons, "important_service"]
    if not change.rollback_tested:
        level, reasons = _at_least(level, RiskLevel.MEDIUM), [*reasons, "rollback_untested"]
    lead = timedelta(hours=settings.CHANGE_MIN_LEAD_HOURS)
    if (change.change_type == ChangeType.NORMAL and change.planned_start
            and change.planned_start - (change.submitted_at or _now()) < lead):
        level = RISK_ORDER[min(risk_rank(level) + 1, len(RISK_ORDER) - 1)]
        reasons.append("short_lead_time")
    return RiskResult(score=score, level=level, reasons=reasons)


def _now():  # noqa: ANN202
    from django.utils import timezone

    return timezone.now()
