"""State and source badges of problems and their actions, as tags: a list row renders several per problem."""

from django import template
from django.utils.html import format_html

from problems.choices import ActionState, KnownErrorState, Source, State

register = template.Library()

STATE_CLASSES = {
    State.IDENTIFIED: "bg-azure-lt", State.INVESTIGATING: "bg-blue-lt", State.ANALYZING: "bg-indigo-lt",
    State.SOLVING: "bg-orange-lt", State.VERIFYING: "bg-cyan-lt", State.UNDER_REVIEW: "bg-yellow-lt",
    State.CLOSED: "bg-secondary text-secondary-fg", State.CANCELLED: "bg-secondary-lt",
}
ACTION_CLASSES = {ActionState.OPEN: "bg-secondary-lt", ActionState.IN_PROGRESS: "bg-blue-lt",
                  ActionState.DONE: "bg-green-lt", ActionState.DROPPED: "bg-secondary-lt text-decoration-line-through"}


def _badge(kind: str, value: str, choices: type, classes: dict) -> str:
    label = choices(value).label if value in choices.values else value
    return format_html('<span class="badge {}-badge {}-{} {}">{}</span>', kind, kind, value,
                       classes.get(value, "bg-secondary-lt"), label)


@register.simple_tag
def problem_state_badge(state: str) -> str:
    return _badge("state", state, State, STATE_CLASSES)


@register.simple_tag
def action_state_badge(state: str) -> str:
    return _badge("action-state", state, ActionState, ACTION_CLASSES)


@register.simple_tag
def source_label(source: str) -> str:
    return Source(source).label if source in Source.values else source


# --- the known-error database ---
KNOWN_ERROR_CLASSES = {KnownErrorState.DRAFT: "bg-yellow-lt", KnownErrorState.PUBLISHED: "bg-green-lt",
                       KnownErrorState.RETIRED: "bg-secondary-lt"}


@register.simple_tag
def known_error_state_badge(state: str) -> str:
    return _badge("known-error-state", state, KnownErrorState, KNOWN_ERROR_CLASSES)
