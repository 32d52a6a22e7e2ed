"""The satisfaction state machines as the policy states them (用戶滿意度調查; DESIGN §4 "SLA"): surveys, their
follow-ups and questionnaire campaigns — every state × every transition × every role, allowed (the state
the policy names, one log row naming who) or refused (400 the system's own, 403 not this role's, 409 not from
this state or blocked by a rule with its reason), a refusal changing nothing; the system's transitions
taken by the sweeps, one row or many at once; and what each role is offered."""

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction
from django.db.models import Model
from django.utils import timezone

from incidents.tests.factories import IncidentFactory
from opscenter.core import roles
from opscenter.core.exceptions import OpsCenterError
from opscenter.core.models import TransitionLog
from opscenter.core.services import perform_bulk_transition, perform_transition
from opscenter.core.testing import matrix
from opscenter.core.testing.matrix import class_transaction, footprint
from opscenter.core.tests.factories import DepartmentFactory, UserFactory
from opscenter.core.workflow import transition_names
from sla.choices import CampaignState, FollowUpState, QuestionKind, SurveyState
from sla.surveys.models import Campaign, CampaignQuestion, FollowUp, Survey

pytestmark = pytest.mark.django_db

ROLES = ["supervisor", "system_engineer", "duty_officer", "department_user", "auditor"]
SYSTEM = "system"  # the sweeps and the respondent's signed link: transitions nobody requests
LINK_EXPIRED = "This link has expired."
CLOSES_IN_PAST = "The campaign must close in the future."
NO_QUESTIONS = "Add at least one question before opening the campaign."


@dataclass(frozen=True)
class Rule:
    sources: frozenset[str]
    target: str
    who: frozenset[str]


def rule(sources: set[str], target: str, *who: str) -> Rule:
    return Rule(frozenset(sources), target, frozenset(who))


@dataclass(frozen=True)
class Situation:
    key: str
    state: str
    blocked: dict[str, str] = field(default_factory=dict, hash=False, compare=False)  # transition → reason


# --- The policies, written from the policy, not read from the models -----------------------------------------

SURVEY = {
    "send": rule({SurveyState.PENDING}, SurveyState.SENT, SYSTEM),
    "answer": rule({SurveyState.SENT}, SurveyState.ANSWERED, SYSTEM),
    "expire": rule({SurveyState.SENT}, SurveyState.EXPIRED, SYSTEM),
}
SURVEY_SITUATIONS = [
    Situation("pending", SurveyState.PENDING),
    Situation("sent", SurveyState.SENT),
    Situation("sent_link_expired", SurveyState.SENT, {"answer": LINK_EXPIRED}),
    Situation("answered", SurveyState.ANSWERED),
    Situation("expired", SurveyState.EXPIRED),
]
FOLLOW_UP = {"close": rule({FollowUpState.OPEN}, FollowUpState.DONE, "supervisor")}
FOLLOW_UP_SITUATIONS = [Situation("open", FollowUpState.OPEN), Situation("done", FollowUpState.DONE)]
CAMPAIGN = {
    "open": rule({CampaignState.DRAFT}, CampaignState.OPEN, "supervisor"),
    "close": rule({CampaignState.OPEN}, CampaignState.CLOSED, "supervisor"),
    "expire": rule({CampaignState.OPEN}, CampaignState.CLOSED, SYSTEM),
}
CAMPAIGN_SITUATIONS = [
    Situation("draft", CampaignState.DRAFT),
    Situation("draft_without_questions", CampaignState.DRAFT, {"open": NO_QUESTIONS}),
    Situation("draft_closing_in_the_past", CampaignState.DRAFT, {"open": CLOSES_IN_PAST}),
    Situation("open", CampaignState.OPEN),
    Situation("closed", CampaignState.CLOSED),
]
MACHINES = {Survey: (SURVEY, SURVEY_SITUATIONS), FollowUp: (FOLLOW_UP, FOLLOW_UP_SITUATIONS),
            Campaign: (CAMPAIGN, CAMPAIGN_SITUATIONS)}


def data_for(model: type[Model], name: str) -> dict[str, Any]:
    """What each transition carries."""
    now = timezone.now()
    return {(Survey, "send"): {"sent_at": now, "expires_at": now + timedelta(days=14)},
            (Survey, "answer"): {"score": 4, "comment": "", "answered_at": now},
            (FollowUp, "close"): {"note": "Called back; the printer is replaced."}}.get((model, name), {})


def expected(policy: dict[str, Rule], situation: Situation, name: str, actor: str) -> tuple[int, str]:
    """(HTTP status, state reached or error code) the policy gives to a role, or to the system."""
    transition = policy[name]
    system_only = SYSTEM in transition.who
    if system_only and actor != SYSTEM:
        return 400, "unknown_transition"  # nobody requests the system's transitions
    if situation.state not in transition.sources:
        return 409, "invalid_state"
    if actor != SYSTEM and actor not in transition.who:
        return 403, "permission_denied"
    if name in situation.blocked:
        return 409, "condition_failed"
    return 200, transition.target


@pytest.mark.parametrize("model", MACHINES, ids=lambda m: m.__name__)
def test_the_policy_covers_every_transition(model: type[Model]) -> None:
    assert sorted(transition_names(model)) == sorted(MACHINES[model][0])


# --- The world: one row per situation, walked there through the transitions ------------------------------------


def build_survey(situation: Situation, respondent: Any) -> Survey:
    survey = Survey.objects.create(incident=IncidentFactory(), respondent=respondent, send_after=timezone.now())
    if situation.state != SurveyState.PENDING:
        survey = perform_transition(survey, "send", user=None, allow_internal=True, data=data_for(Survey, "send"))
    if situation.key == "sent_link_expired":
        Survey.objects.filter(pk=survey.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    if situation.state in (SurveyState.ANSWERED, SurveyState.EXPIRED):
        name = "answer" if situation.state == SurveyState.ANSWERED else "expire"
        survey = perform_transition(survey, name, user=respondent, allow_internal=True, data=data_for(Survey, name))
    return survey


def build_follow_up(situation: Situation, respondent: Any, supervisor: Any) -> FollowUp:
    survey = build_survey(Situation("answered", SurveyState.ANSWERED), respondent)
    follow_up = FollowUp.objects.create(survey=survey)
    if situation.state == FollowUpState.DONE:
        follow_up = perform_transition(follow_up, "close", user=supervisor, data=data_for(FollowUp, "close"))
    return follow_up


def build_campaign(situation: Situation, supervisor: Any) -> Campaign:
    closes_at = timezone.now() + (timedelta(minutes=-1) if "past" in situation.key else timedelta(days=7))
    campaign = Campaign.objects.create(name=situation.key, closes_at=closes_at, created_by=supervisor)
    campaign.departments.set([DepartmentFactory()])
    if "without_questions" not in situation.key:
        CampaignQuestion.objects.create(campaign=campaign, text="Overall?", kind=QuestionKind.SCORE)
    if situation.state != CampaignState.DRAFT:
        campaign = perform_transition(campaign, "open", user=supervisor)
    if situation.state == CampaignState.CLOSED:
        campaign = perform_transition(campaign, "close", user=supervisor)
    return campaign


@dataclass
class World:
    users: dict[str, Any]
    rows: dict[tuple[type[Model], str], int]


@pytest.fixture(scope="class")
def world(django_db_setup, django_db_blocker):  # noqa: ANN001, ANN201
    """Built once for the class (opscenter.core.testing.matrix): every case runs in a savepoint inside it."""
    with class_transaction(django_db_blocker):
        with django_db_blocker.unblock():
            users = {role: UserFactory(roles=[role]) for role in ROLES}
            respondent = users["department_user"]
            rows = {}
            for situation in SURVEY_SITUATIONS:
                rows[Survey, situation.key] = build_survey(situation, respondent).pk
            for situation in FOLLOW_UP_SITUATIONS:
                rows[FollowUp, situation.key] = build_follow_up(situation, respondent, users["supervisor"]).pk
            for situation in CAMPAIGN_SITUATIONS:
                rows[Campaign, situation.key] = build_campaign(situation, users["supervisor"]).pk
            for (model, key), pk in rows.items():
                situation = next(s for s in MACHINES[model][1] if s.key == key)
                assert model.objects.get(pk=pk).state == situation.state, key
        yield World(users, rows)


def moved_as_the_policy_says(model: type[Model], obj: Model, situation: Situation, name: str, target: str,
                             actor_id: int | None, before: tuple) -> str | None:
    log = TransitionLog.objects.order_by("pk").last()
    got = (model.objects.get(pk=obj.pk).state, footprint(model, obj.pk)[1] - before[1],
           (log.transition, log.source_state, log.target_state, log.actor_id, log.object_id))
    want = (target, 1, (name, situation.state, target, actor_id, obj.pk))
    return None if got == want else f"expected {want}, got {got}"


def attempt(world: World, model: type[Model], situation: Situation, name: str, role: str) -> str | None:
    """A person takes the transition (the service path every page, API and admin uses); what differs from the
    policy, or None. What they are offered must agree."""
    policy = MACHINES[model][0]
    obj = model.objects.get(pk=world.rows[model, situation.key])
    user = world.users[role]
    status, outcome = expected(policy, situation, name, role)
    wrong = matrix.attempt(obj, name, user, (status, outcome),
                           reason=situation.blocked[name] if outcome == "condition_failed" else "",
                           act=lambda: perform_transition(obj, name, user=user, data=data_for(model, name)))
    return wrong and f"{role}: {wrong}"


def attempt_as_system(world: World, model: type[Model], situation: Situation, name: str) -> str | None:
    """The system takes one of its own transitions on this row: what differs from the policy, or None."""
    policy = MACHINES[model][0]
    if SYSTEM not in policy[name].who:
        return None
    obj = model.objects.get(pk=world.rows[model, situation.key])
    status, outcome = expected(policy, situation, name, SYSTEM)
    before = footprint(model, obj.pk)
    try:
        perform_transition(obj, name, user=None, allow_internal=True, data=data_for(model, name))
    except OpsCenterError as refused:
        if (refused.status_code, refused.code) != (status, outcome):
            return f"system: expected {status} {outcome}, got {refused.status_code} {refused.code} {refused.detail}"
        return None if footprint(model, obj.pk) == before else "system: the refusal changed something"
    if status != 200:
        return f"system: expected {status} {outcome}, but it moved"
    wrong = moved_as_the_policy_says(model, obj, situation, name, outcome, None, before)
    return wrong and f"system: {wrong}"


def attempt_in_bulk(world: World, model: type[Model], situation: Situation, name: str) -> str | None:
    """A sweep moves the row by the system's transition: it moves only from the sources (the sweep's own
    query carries the rules), with one log row; a row elsewhere is left alone."""
    policy = MACHINES[model][0]
    if SYSTEM not in policy[name].who:
        return None
    obj = model.objects.get(pk=world.rows[model, situation.key])
    transition = policy[name]
    before = footprint(model, obj.pk)
    ids = perform_bulk_transition(model.objects.filter(pk=obj.pk), name, data=data_for(model, name))
    if situation.state not in transition.sources:
        return None if (ids, footprint(model, obj.pk)) == ([], before) else "bulk: moved a row not in a source"
    if ids != [obj.pk]:
        return f"bulk: moved {ids}"
    wrong = moved_as_the_policy_says(model, obj, situation, name, transition.target, None, before)
    return wrong and f"bulk: {wrong}"


CASES = [(model, situation, name) for model, (policy, situations) in MACHINES.items()
         for situation in situations for name in sorted(policy)]


class TestMatrix:
    """Each case runs in a savepoint rolled back afterwards; the row is read fresh every time."""

    @pytest.mark.parametrize(("model", "situation", "name"), CASES,
                             ids=[f"{m.__name__}-{s.key}-{n}" for m, s, n in CASES])
    def test_transition_by_every_role_and_the_system(self, world: World, model: type[Model], situation: Situation,
                                                     name: str) -> None:
        wrong = []
        for who in [*ROLES, SYSTEM, "bulk"]:
            with transaction.atomic():
                if who == SYSTEM:
                    wrong.append(attempt_as_system(world, model, situation, name))
                elif who == "bulk":
                    wrong.append(attempt_in_bulk(world, model, situation, name))
                else:
                    wrong.append(attempt(world, model, situation, name, who))
                transaction.set_rollback(True)
        assert [w for w in wrong if w] == []


# --- What the kernel's bulk move keeps ----------------------------------------------------------------------------


def test_a_bulk_move_writes_one_log_row_per_row_and_its_data() -> None:
    respondent = UserFactory(roles=[roles.DEPARTMENT_USER])
    surveys = [Survey.objects.create(incident=IncidentFactory(), respondent=respondent, send_after=timezone.now())
               for _ in range(3)]
    data = data_for(Survey, "send")
    ids = perform_bulk_transition(Survey.objects.order_by("pk"), "send", data=data, limit=2)
    assert ids == [surveys[0].pk, surveys[1].pk]
    assert list(Survey.objects.order_by("pk").values_list("state", flat=True)) == ["sent", "sent", "pending"]
    assert Survey.objects.get(pk=ids[0]).expires_at == data["expires_at"]
    logs = TransitionLog.objects.order_by("object_id")
    assert [(log.object_id, log.transition, log.source_state, log.target_state, log.actor_id) for log in logs] == [
        (pk, "send", "pending", "sent", None) for pk in ids]
    assert logs[0].data["expires_at"] == str(data["expires_at"])
    assert perform_bulk_transition(Survey.objects.filter(pk__in=ids), "send", data=data) == []  # once


def test_a_bulk_move_refuses_what_is_not_a_transition_or_its_data() -> None:
    with pytest.raises(OpsCenterError) as unknown:
        perform_bulk_transition(Survey.objects.all(), "delete")
    assert unknown.value.code == "unknown_transition"
    with pytest.raises(OpsCenterError) as missing:
        perform_bulk_transition(Survey.objects.all(), "send", data={"sent_at": timezone.now()})
    assert missing.value.code == "invalid" and "expires_at" in missing.value.detail


def test_states_are_protected() -> None:
    campaign = Campaign.objects.create(name="Q4", closes_at=timezone.now() + timedelta(days=1),
                                       created_by=UserFactory(roles=[roles.SUPERVISOR]))
    with pytest.raises(AttributeError):
        campaign.state = CampaignState.OPEN
    campaign.refresh_from_db()  # the mixin lets a protected state be reloaded
    assert campaign.state == CampaignState.DRAFT
