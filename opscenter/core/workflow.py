"""State-machine helpers: policy conditions with reasons, role permissions, available transitions."""

import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _
from django_fsm import Transition

from opscenter.core.exceptions import TransitionForbidden
from opscenter.core.roles import SUPERVISOR, has_role


def condition(reason: str, explain: Callable[[Any], str] | None = None,
              ) -> Callable[[Callable[[Any], bool]], Callable[[Any], bool]]:
    """Mark a predicate as a policy condition; `reason` is what a refused user is told. `explain(instance)`, when
    given, says more particularly why this row fails it (which of several rules, with its figures); "" falls
    back to `reason`."""

    def mark(predicate: Callable[[Any], bool]) -> Callable[[Any], bool]:
        predicate.reason = reason  # type: ignore[attr-defined]
        if explain is not None:
            predicate.explain = explain  # type: ignore[attr-defined]
        return predicate

    return mark


def condition_reason(predicate: Callable[[Any], bool]) -> str:
    """The sentence that explains why a condition blocks a transition."""
    reason = getattr(predicate, "reason", None)
    if reason:
        return str(reason)
    doc = (predicate.__doc__ or "").strip().splitlines()
    return doc[0] if doc else str(_("A rule of the policy blocks this transition."))


def condition_refusal(predicate: Callable[[Any], bool], instance: Any) -> str:
    """Why a condition blocks a transition of this row: the predicate's own `explain(instance)` when it has one
    (and it says something), else its reason."""
    explain = getattr(predicate, "explain", None)
    return (explain(instance) if explain else "") or condition_reason(predicate)


def roles_allowed(*roles: str) -> Callable[[Any, Any], bool]:
    """A transition permission: the user holds one of the roles."""

    def permission(instance: Any, user: Any) -> bool:
        return bool(user and user.is_active and has_role(user, *roles))

    permission.roles = roles  # type: ignore[attr-defined]
    return permission


def supervisors_only(refusal: str) -> Callable[[Any, Any], bool]:
    """A transition permission held by supervisors (運維主管); anyone else is told `refusal` (403)."""
    permission = roles_allowed(SUPERVISOR)
    permission.refusal = lambda instance, user: TransitionForbidden(refusal)  # type: ignore[attr-defined]
    return permission


def state_field_name(model: type[models.Model]) -> str:
    return getattr(model, "STATE_FIELD", "state")


@functools.cache
def transition_names(model: type[models.Model]) -> tuple[str, ...]:
    """Names of a model's transitions, in the order they are declared (fixed once the class exists; a list
    asks for them once per row)."""
    field = model._meta.get_field(state_field_name(model))
    methods = {t.name: t.method for t in field.get_all_transitions(model)}
    return tuple(sorted(methods, key=lambda name: getattr(methods[name], "__code__", None) and
                        methods[name].__code__.co_firstlineno or 0))


def get_transition(instance: models.Model, name: str) -> Transition | None:
    """The transition `name` from the instance's current state, or None when none leaves it."""
    method = getattr(type(instance), name, None)
    meta = getattr(method, "_django_fsm", None)
    if meta is None:
        return None
    return meta.get_transition(getattr(instance, state_field_name(type(instance))))


def is_transition(model: type[models.Model], name: str) -> bool:
    return not name.startswith("_") and hasattr(getattr(model, name, None), "_django_fsm")


def is_internal_transition(model: type[models.Model], name: str) -> bool:
    """Transitions the system performs itself (`custom={"internal": True}`) are not requested by people."""
    meta = getattr(getattr(model, name, None), "_django_fsm", None)
    return meta is not None and any(t.custom.get("internal") for t in meta.transitions.values())


def comment_requirement(model: type[models.Model] | models.Model, name: str) -> str:
    """What a user is asked for when the transition declares that its comment is required (its
    `custom={"comment_required": …}`, the reason the policy wants); "" when it is not required."""
    meta = getattr(getattr(model, name, None), "_django_fsm", None)
    if meta is None:
        return ""
    return next((str(t.custom["comment_required"]) for t in meta.transitions.values()
                 if t.custom.get("comment_required")), "")


@dataclass(frozen=True)
class AvailableTransition:
    name: str
    label: str
    target: str
    allowed: bool
    reason: str = ""


def transition_label(transition: Transition) -> str:
    return str(transition.custom.get("label") or transition.name.replace("_", " ").capitalize())


def transition_description(transition: Transition) -> str:
    """What a transition does, for the person about to take it (its `custom={"description": …}`, translated);
    "" when it declares none (a docstring is for developers, in English)."""
    return str(transition.custom.get("description") or "")


def transition_target(instance: models.Model, transition: Transition) -> str:
    """The state a transition leads to: the current one when it keeps it, "" when the transition decides
    at run time (RETURN_VALUE)."""
    if transition.target is None:
        return str(getattr(instance, state_field_name(type(instance))))
    if isinstance(transition.target, str):
        return transition.target
    return ""


def allowed_transition_names(instance: models.Model, user: Any) -> list[str]:
    """The names of the transitions this user may take now: `available_transitions` less the blocked ones,
    without working out labels, targets and reasons (an API list asks for every row)."""
    return [name for name, transition in _offered(instance, user)
            if all(condition(instance) for condition in transition.conditions)]


def _offered(instance: models.Model, user: Any) -> Iterator[tuple[str, Transition]]:
    """(name, transition) of each requestable transition leaving the current state that this user may take."""
    model = type(instance)
    for name, transition in _leaving(model, getattr(instance, state_field_name(model))):
        if transition.has_perm(instance, user):
            yield name, transition


@functools.cache
def _leaving(model: type[models.Model], state: str) -> tuple[tuple[str, Transition], ...]:
    """(name, transition) of each requestable transition leaving `state`, in declaration order: fixed by the
    model's declarations (a list asks for every row)."""
    found = []
    for name in transition_names(model):
        meta = getattr(getattr(model, name, None), "_django_fsm", None)
        transition = meta.get_transition(state) if meta is not None else None
        if transition is not None and not transition.custom.get("internal"):
            found.append((name, transition))
    return tuple(found)


def available_transitions(instance: models.Model, user: Any) -> list[AvailableTransition]:
    """Transitions that leave the current state and that this user may take.

    `allowed` is False, with the policy's reason, when a condition blocks it.
    """
    result = []
    for name, transition in _offered(instance, user):
        failing = next((c for c in transition.conditions if not c(instance)), None)
        result.append(
            AvailableTransition(
                name=name,
                label=transition_label(transition),
                target=transition_target(instance, transition),
                allowed=failing is None,
                reason=condition_refusal(failing, instance) if failing else "",
            )
        )
    return result
