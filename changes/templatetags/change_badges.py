"""State, type and risk badges of changes, as tags: a list row renders several per change."""

from django import template
from django.utils.html import format_html

from changes.choices import ChangeType, RiskLevel, State

register = template.Library()

STATE_CLASSES = {
    State.DRAFT: "bg-secondary-lt", State.SUBMITTED: "bg-azure-lt", State.ASSESSING: "bg-blue-lt",
    State.AWAITING_APPROVAL: "bg-yellow-lt", State.APPROVED: "bg-teal-lt", State.SCHEDULED: "bg-indigo-lt",
    State.IMPLEMENTING: "bg-orange-lt", State.VERIFYING: "bg-cyan-lt", State.COMPLETED: "bg-green-lt",
    State.CLOSED: "bg-secondary text-secondary-fg", State.REJECTED: "bg-red-lt", State.CANCELLED: "bg-secondary-lt",
    State.FAILED: "bg-red text-red-fg", State.ROLLED_BACK: "bg-pink-lt",
}
RISK_CLASSES = {RiskLevel.LOW: "bg-green-lt", RiskLevel.MEDIUM: "bg-yellow-lt",
                RiskLevel.HIGH: "bg-orange text-orange-fg", RiskLevel.MAJOR: "bg-red text-red-fg"}
TYPE_CLASSES = {ChangeType.STANDARD: "bg-teal-lt", ChangeType.NORMAL: "bg-blue-lt",
                ChangeType.EMERGENCY: "bg-red-lt"}


def _badge(kind: str, value: str, choices: type, classes: dict) -> str:
    label = choices(value).label if value in choices.values else value
    return format_html('<span class="badge {}-badge {}-{} {}">{}</span>', kind, kind, value,
                       classes.get(value, "bg-secondary-lt"), label)


@register.simple_tag
def change_state_badge(state: str) -> str:
    return _badge("state", state, State, STATE_CLASSES)


@register.simple_tag
def risk_badge(level: str) -> str:
    if not level:
        return format_html('<span class="badge bg-transparent text-secondary border">{}</span>', "–")
    return _badge("risk", level, RiskLevel, RISK_CLASSES)


@register.simple_tag
def type_badge(change_type: str) -> str:
    return _badge("type", change_type, ChangeType, TYPE_CLASSES)
