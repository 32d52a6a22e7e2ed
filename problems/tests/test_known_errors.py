"""Known errors: recording (from a problem, from its analysis onward, or on its own), editing, the transition matrix
by state and role, publishing the workaround once onto the open incidents of the problem, and the suggestions for
incidents (service, CI, words — Chinese on PostgreSQL — never drafts or retired ones)."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection

from incidents.choices import State as IncidentState
from incidents.models import Incident
from incidents.tests.factories import IncidentFactory
from opscenter.core import roles
from opscenter.core.choices import CIType
from opscenter.core.exceptions import (
    ConditionFailed,
    InvalidInput,
    InvalidState,
    NotFound,
    ReadOnlyRecord,
    TransitionForbidden,
)
from opscenter.core.models import Comment, ConfigurationItem, FieldChange, Service, TransitionLog
from opscenter.core.tests.factories import UserFactory
from problems import known_errors
from problems.choices import KnownErrorState, State
from problems.models import KnownError
from problems.tests.factories import KnownErrorFactory, problem_in_state

pytestmark = pytest.mark.django_db


def incident_notes(incident: Incident) -> list[str]:
    return list(Comment.objects.filter(content_type=ContentType.objects.get_for_model(Incident),
                                       object_id=incident.pk).values_list("body", flat=True))


# --- recording -------------------------------------------------------------------------------------------


def test_recorded_from_an_analysed_problem_is_filled_from_it(crew) -> None:  # noqa: ANN001
    problem = problem_in_state(State.SOLVING, crew)
    ke = known_errors.known_error_create(user=crew.engineer, data={"problem": problem,
                                                                   "workaround": "Restart the pool."})
    assert ke.state == KnownErrorState.DRAFT and ke.number.startswith("KE-")
    assert ke.title == problem.title and ke.root_cause == problem.root_cause and ke.symptom == problem.description
    log = TransitionLog.objects.get(object_id=ke.pk, content_type=ContentType.objects.get_for_model(KnownError))
    assert log.transition == "record" and log.data == {"problem": problem.number}


@pytest.mark.parametrize("state", [State.IDENTIFIED, State.INVESTIGATING])
def test_not_recorded_from_a_problem_before_its_analysis(crew, state: str) -> None:  # noqa: ANN001
    problem = problem_in_state(state, crew)
    with pytest.raises(InvalidState):
        known_errors.known_error_create(user=crew.engineer, data={"problem": problem, "workaround": "x"})


def test_standalone_needs_a_symptom_and_refuses_unknown_fields(crew) -> None:  # noqa: ANN001
    with pytest.raises(InvalidInput) as refused:
        known_errors.known_error_create(user=crew.engineer, data={"title": "Printer jam", "symptom": "  "})
    assert "symptom" in refused.value.detail
    with pytest.raises(InvalidInput) as refused:
        known_errors.known_error_create(user=crew.engineer, data={"title": "x", "symptom": "y", "state": "published"})
    assert "state" in refused.value.detail
    ke = known_errors.known_error_create(user=crew.engineer, data={"title": "Printer jam", "symptom": "Paper jams"})
    assert ke.problem_id is None


@pytest.mark.parametrize("role", [roles.DUTY_OFFICER, roles.AUDITOR, roles.DEPARTMENT_USER])
def test_only_those_who_work_problems_record_known_errors(role: str) -> None:
    with pytest.raises(TransitionForbidden):
        known_errors.known_error_create(user=UserFactory(roles=[role]), data={"title": "x", "symptom": "y"})


def test_edits_are_on_the_timeline_and_a_retired_one_is_a_record(crew) -> None:  # noqa: ANN001
    ke = KnownErrorFactory()
    ke = known_errors.known_error_update(ke, user=crew.engineer, changes={"workaround": "Use the backup portal."})
    change = FieldChange.objects.get(object_id=ke.pk, field="workaround")
    assert change.new_value == "Use the backup portal."
    with pytest.raises(InvalidInput):
        known_errors.known_error_update(ke, user=crew.engineer, changes={"problem": None})
    ke = known_errors.known_error_transition(ke, "retire", user=crew.manager, comment="Fixed for good.")
    with pytest.raises(ReadOnlyRecord):
        known_errors.known_error_update(ke, user=crew.manager, changes={"workaround": "x"})


# --- the transition matrix by state and role -------------------------------------------------------------

MANAGERS = [roles.PROBLEM_MANAGER, roles.SUPERVISOR]
OTHERS = [roles.SYSTEM_ENGINEER, roles.NETWORK_ENGINEER, roles.DUTY_OFFICER, roles.AUDITOR, roles.DEPARTMENT_USER]
MATRIX = {  # transition → the states it leaves
    "publish": [KnownErrorState.DRAFT],
    "retire": [KnownErrorState.DRAFT, KnownErrorState.PUBLISHED],
}


def cases() -> list[tuple[str, str, str, str]]:
    """(transition, state, role, expected): allowed, forbidden (403) or invalid_state (409)."""
    out = []
    for name, sources in MATRIX.items():
        for state in KnownErrorState.values:
            for role in MANAGERS + OTHERS:
                if state not in sources:
                    out.append((name, state, role, "invalid_state"))
                else:
                    out.append((name, state, role, "allowed" if role in MANAGERS else "forbidden"))
    return out


@pytest.mark.parametrize(("name", "state", "role", "expected"), cases())
def test_transition_matrix(name: str, state: str, role: str, expected: str) -> None:
    ke = KnownErrorFactory(state=state)
    user = UserFactory(roles=[role])
    comment = "Superseded by a fix." if name == "retire" else ""
    if expected == "allowed":
        moved = known_errors.known_error_transition(ke, name, user=user, comment=comment)
        assert moved.state == {"publish": KnownErrorState.PUBLISHED, "retire": KnownErrorState.RETIRED}[name]
        assert TransitionLog.objects.filter(object_id=ke.pk, transition=name, actor=user).exists()
        return
    error = TransitionForbidden if expected == "forbidden" else InvalidState
    with pytest.raises(error):
        known_errors.known_error_transition(ke, name, user=user, comment=comment)
    ke.refresh_from_db()
    assert ke.state == state


def test_publishing_needs_symptom_root_cause_and_workaround(crew) -> None:  # noqa: ANN001
    ke = KnownErrorFactory(workaround="")
    with pytest.raises(ConditionFailed) as refused:
        known_errors.known_error_transition(ke, "publish", user=crew.manager)
    assert "workaround" in str(refused.value.detail)


def test_retiring_needs_the_reason(crew) -> None:  # noqa: ANN001
    ke = KnownErrorFactory(state=KnownErrorState.PUBLISHED)
    with pytest.raises(InvalidInput) as refused:
        known_errors.known_error_transition(ke, "retire", user=crew.manager)
    assert "comment" in refused.value.detail


# --- publishing notes the workaround on the problem's open incidents --------------------------------------


def test_publishing_notes_the_workaround_once_on_each_open_incident(crew) -> None:  # noqa: ANN001
    open_one, other_open = IncidentFactory(title="ERP 登入逾時"), IncidentFactory(title="ERP timeout")
    closed = IncidentFactory(title="ERP timeout last month", state=IncidentState.CLOSED)
    problem = problem_in_state(State.SOLVING, crew, incidents=[open_one, other_open, closed])
    ke = known_errors.known_error_create(user=crew.engineer, data={"problem": problem,
                                                                   "workaround": "Restart the ERP pool."})
    ke = known_errors.known_error_transition(ke, "publish", user=crew.manager)
    for incident in (open_one, other_open):
        (note,) = incident_notes(incident)
        assert note.startswith(f"[{ke.number}]") and "Restart the ERP pool." in note
    assert incident_notes(closed) == []
    noted = FieldChange.objects.get(object_id=ke.pk, field="incidents_noted")
    assert noted.new_value == f"{open_one.number}, {other_open.number}"

    # Edited after publishing, and the notes written again (as a second publish would): still one per incident.
    known_errors.known_error_update(ke, user=crew.engineer, changes={"workaround": "Restart it twice."})
    known_errors._note_workaround(KnownError.objects.get(pk=ke.pk), crew.manager)
    assert len(incident_notes(open_one)) == 1 and len(incident_notes(other_open)) == 1


# --- suggestions -----------------------------------------------------------------------------------------


def published(**fields: object) -> KnownError:
    return KnownErrorFactory(state=KnownErrorState.PUBLISHED, **fields)


def test_suggested_by_service_and_ci_and_never_draft_or_retired(crew) -> None:  # noqa: ANN001
    service = Service.objects.create(code="erp", name="ERP")
    other = Service.objects.create(code="mail", name="Mail")
    ci = ConfigurationItem.objects.create(name="erp-db-01", ci_type=CIType.SERVER)
    on_service = published(title="Pool exhausted", service=service)
    on_ci = published(title="Disk full", configuration_item=ci)
    published(title="Mailbox full", service=other)
    KnownErrorFactory(title="Draft on ERP", service=service)
    KnownErrorFactory(title="Retired on ERP", service=service, state=KnownErrorState.RETIRED)
    found = known_errors.known_error_suggestions(user=crew.engineer, service=service, configuration_item=ci)
    assert found == [on_ci, on_service]  # the same CI first
    assert known_errors.known_error_suggestions(user=UserFactory(roles=[roles.DEPARTMENT_USER]),
                                                service=service) == []
    assert known_errors.known_error_suggestions(user=crew.engineer) == []


def test_suggested_by_matching_words_chinese_included(crew) -> None:  # noqa: ANN001
    match = published(title="ERP 系統登入逾時", symptom="ERP 系統登入逾時，畫面停在載入中。")
    published(title="印表機卡紙", symptom="三樓印表機卡紙。")
    KnownErrorFactory(title="ERP 系統登入逾時（草稿）", symptom="ERP 系統登入逾時")
    KnownErrorFactory(title="ERP 系統登入逾時（已停用）", symptom="ERP 系統登入逾時", state=KnownErrorState.RETIRED)
    assert known_errors.known_error_suggestions(user=crew.engineer, text="ERP 登入逾時") == [match]
    english = published(title="VPN drops every hour", symptom="The VPN tunnel drops every hour.")
    assert known_errors.known_error_suggestions(user=crew.engineer, text="vpn drops") == [english]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="trigram similarity is PostgreSQL's")
def test_words_alike_but_not_contained_match_on_postgresql(crew) -> None:  # noqa: ANN001
    match = published(title="ERP 系統登入逾時", symptom="畫面停在載入中。")
    assert known_errors.known_error_suggestions(user=crew.engineer, text="ERP 系統登錄逾時") == [match]
    assert known_errors.known_error_suggestions(user=crew.engineer, text="印表機") == []


def test_suggestions_kept_for_their_words_see_every_change_at_once(crew, django_assert_num_queries) -> None:  # noqa: ANN001
    """The known errors alike to the words are kept in the cache; an edit, a publication and a retirement are seen
    on the next ask, and a kept answer costs one query (the rows themselves)."""
    first = published(title="ERP 系統登入逾時", symptom="畫面停在載入中。")
    assert known_errors.known_error_suggestions(user=crew.engineer, text="ERP 系統登入逾時") == [first]
    with django_assert_num_queries(1):
        assert known_errors.known_error_suggestions(user=crew.engineer, text="ERP 系統登入逾時") == [first]

    draft = KnownErrorFactory(title="ERP 系統登入逾時，連線池用盡", symptom="ERP 系統登入逾時")
    assert known_errors.known_error_suggestions(user=crew.engineer, text="ERP 系統登入逾時") == [first]
    draft = known_errors.known_error_transition(draft, "publish", user=crew.manager)
    assert set(known_errors.known_error_suggestions(user=crew.engineer, text="ERP 系統登入逾時")) == {first, draft}

    known_errors.known_error_update(first, user=crew.engineer, changes={"title": "Printer jams", "symptom": "Jams."})
    assert known_errors.known_error_suggestions(user=crew.engineer, text="ERP 系統登入逾時") == [draft]
    known_errors.known_error_transition(KnownError.objects.get(pk=draft.pk), "retire", user=crew.manager,
                                        comment="Fixed for good.")
    assert known_errors.known_error_suggestions(user=crew.engineer, text="ERP 系統登入逾時") == []
    assert known_errors.known_error_suggestions(user=UserFactory(roles=[roles.DEPARTMENT_USER]),
                                                text="Printer jams") == []


def test_what_the_published_known_errors_are_on_is_seen_at_once(crew, django_assert_num_queries) -> None:  # noqa: ANN001
    """On what the published known errors are recorded is kept in the cache: with none published, nothing is asked;
    a known error published on a service, moved to a CI, or retired, is seen by the next ask."""
    service = Service.objects.create(code="erp", name="ERP")
    ci = ConfigurationItem.objects.create(name="erp-db-01", ci_type=CIType.SERVER)
    draft = KnownErrorFactory(title="Pool exhausted", service=service)
    known_errors.known_error_suggestions(user=crew.engineer, service=service)
    with django_assert_num_queries(0):  # none is published: no rows to ask for
        assert known_errors.known_error_suggestions(user=crew.engineer, service=service, text="Pool") == []
    draft = known_errors.known_error_transition(draft, "publish", user=crew.manager)
    assert known_errors.known_error_suggestions(user=crew.engineer, service=service) == [draft]
    assert known_errors.known_error_suggestions(user=crew.engineer, configuration_item=ci) == []
    known_errors.known_error_update(draft, user=crew.engineer, changes={"service": None, "configuration_item": ci})
    assert known_errors.known_error_suggestions(user=crew.engineer, service=service) == []
    assert known_errors.known_error_suggestions(user=crew.engineer, configuration_item=ci) == [draft]
    known_errors.known_error_transition(KnownError.objects.get(pk=draft.pk), "retire", user=crew.manager,
                                        comment="Fixed for good.")
    assert known_errors.known_error_suggestions(user=crew.engineer, configuration_item=ci) == []


def test_an_incident_is_suggested_its_problems_known_errors_first(crew) -> None:  # noqa: ANN001
    incident = IncidentFactory(title="ERP 登入逾時")
    problem = problem_in_state(State.SOLVING, crew, incidents=[incident])
    own = known_errors.known_error_create(user=crew.engineer, data={"problem": problem, "title": "Pool",
                                                                    "workaround": "Restart."})
    own = known_errors.known_error_transition(own, "publish", user=crew.manager)
    alike = published(title="ERP 系統登入逾時")
    assert known_errors.incident_suggestions(user=crew.engineer, incident=incident) == [own, alike]


def test_find_problem_answers_not_found_for_what_the_user_may_not_see(crew) -> None:  # noqa: ANN001
    problem = problem_in_state(State.ANALYZING, crew)
    with pytest.raises(NotFound):
        known_errors.find_problem(user=UserFactory(roles=[roles.DEPARTMENT_USER]), pk=problem.pk)
    with pytest.raises(NotFound):
        known_errors.find_problem(user=crew.engineer, pk="x")
    assert known_errors.find_problem(user=crew.engineer, pk=problem.pk) == problem


# --- the problem's report approved -----------------------------------------------------------------------


def test_approving_the_report_writes_the_permanent_fix_on_the_problems_known_errors(crew) -> None:  # noqa: ANN001
    """Closed: every known error of the problem that is not retired takes the report's solution as its permanent fix
    (and the cause where it had no root cause), on its timeline; a retired one and another problem's stay as they
    were; returning the report writes nothing."""
    from problems.services import problem_transition

    problem = problem_in_state(State.UNDER_REVIEW, crew)
    published = KnownErrorFactory(problem=problem, state=KnownErrorState.PUBLISHED)
    draft = KnownErrorFactory(problem=problem, root_cause="")
    retired = KnownErrorFactory(problem=problem, state=KnownErrorState.RETIRED)
    other = KnownErrorFactory(problem=problem_in_state(State.UNDER_REVIEW, crew, title="Mail delays"))
    problem_transition(problem, "return_report", user=crew.manager, comment="Say what the result was.")
    assert KnownError.objects.get(pk=published.pk).permanent_fix == ""

    problem = problem_in_state(State.UNDER_REVIEW, crew, title="Logins")  # reviewed again
    KnownError.objects.filter(pk__in=[published.pk, draft.pk, retired.pk]).update(problem=problem)
    problem_transition(problem, "approve_report", user=crew.manager)
    published, draft = KnownError.objects.get(pk=published.pk), KnownError.objects.get(pk=draft.pk)
    assert published.permanent_fix == draft.permanent_fix == problem.report_solution
    assert published.root_cause == KnownErrorFactory.root_cause and draft.root_cause == problem.report_cause
    assert KnownError.objects.get(pk=retired.pk).permanent_fix == ""
    assert KnownError.objects.get(pk=other.pk).permanent_fix == ""
    change = FieldChange.objects.get(content_type=ContentType.objects.get_for_model(KnownError),
                                     object_id=published.pk, field="permanent_fix")
    assert change.new_value == problem.report_solution and change.actor == crew.manager
