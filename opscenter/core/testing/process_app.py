"""`ProcessAppTests`: the API, visibility, transition-matrix and query-count tests generated for a process app
from what it declares (its model, API basename, a row in each state, a user in each role, its policy's matrix)."""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

import pytest
from django.db import connection, models
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from opscenter.core.models import TransitionLog
from opscenter.core.testing.matrix import class_transaction
from opscenter.core.workflow import state_field_name, transition_names

SAME = "same state"  # a transition that keeps the state (reassign, declare a major incident …)


@dataclass(frozen=True)
class Rule:
    """One transition of the policy from some states: where it leads and who takes it, in the policy's names
    for people (`ProcessAppTests.policy_names` tells which names a role answers to in a state)."""

    sources: frozenset[str]
    target: str
    who: frozenset[str]


def rule(sources: Iterable[str], target: str, *who: str) -> Rule:
    """rule({"reported"}, "classified", "duty officer", "engineer"): a `Rule`, written as the policy reads."""
    return Rule(frozenset(sources), target, frozenset(who))


@dataclass
class World:
    """What every generated test of a class starts from: the app's context (its crew), a user per role and the
    primary key of a row in each declared state."""

    context: Any
    users: dict[str, Any]
    rows: dict[str, int]


def assert_error(response: Any, status: int, code: str) -> None:
    """The response is the API's JSON error: this status, {"code": code, "detail": …}."""
    assert response.status_code == status, (status, code, response.status_code, response.content[:500])
    body = response.json()
    assert set(body) == {"code", "detail"} and body["detail"], body
    assert body["code"] == code, body


class ProcessAppTests:
    """Base of a process app's generated tests. Subclass it as `class TestIncidents(ProcessAppTests)` in the
    app's `tests/test_generated.py` and declare:

    - `model`, `basename` (the API router's basename: `<basename>-list`, `-detail`, `-transition`);
    - `states`: the states a row is made in, `make_context()` (the people and things rows share),
      `make_user(role, context)` and `make_row(state, context)` (a row walked there by the app's services);
    - `readers` (roles that see every row made), `outsiders` (users of another department: they see none,
      404 everywhere), `refused` (roles that may not read the endpoints: 403);
    - `matrix`: each public transition's `Rule`s written from the policy (not read from the model), `internal`
      (the system's own transitions: 400 to anyone), `matrix_roles`, `read_only` (roles refused every write,
      403 before the state is looked at), `transition_payload(name, context)`, and
      where the app needs them `policy_names`, `blocked` and `refusal_code`;
    - `list_queries` / `detail_queries` (role → pinned count) and `query_states`; `make_rows(n, context)`.

    Generated: the matrix covers every transition; anonymous requests are 401; list and detail by role; an
    outsider sees no row anywhere and moves none; every state × transition × role through the API (200 and the
    state reached with one log entry, or the declared 400/403/409 and nothing changed); the detail's
    `available_transitions` are exactly the ones the matrix allows the role; list and detail query counts equal
    with N and 3N rows and equal to the pin.
    The world is built once per class inside a transaction rolled back after it; each test runs in a savepoint
    inside it.
    """

    model: ClassVar[type[models.Model]]
    basename: ClassVar[str]
    states: ClassVar[list[str]]
    readers: ClassVar[list[str]] = []
    outsiders: ClassVar[list[str]] = []
    refused: ClassVar[list[str]] = []
    matrix: ClassVar[dict[str, Rule | list[Rule]]] = {}
    internal: ClassVar[list[str]] = []
    matrix_roles: ClassVar[list[str]] = []
    read_only: ClassVar[list[str]] = []  # roles the API's permissions refuse every write (403, whatever the state)
    blocked: ClassVar[dict[tuple[str, str], str]] = {}  # (state, transition) → the 409 code a rule of the policy gives
    list_queries: ClassVar[dict[str, int]] = {}
    detail_queries: ClassVar[dict[str, int]] = {}
    query_states: ClassVar[list[str]] = []
    rows_per_step: ClassVar[int] = 3  # N in "N rows, then 3N"
    search_param: ClassVar[str] = "search"  # the list's free-text search, which finds a row by its number
    # (test name, role, state, transition) → reason: a case that shows a known defect (xfail, strict).
    known_defects: ClassVar[dict[tuple[str, str, str, str], str]] = {}

    # --- what an app implements -------------------------------------------------------------------------------

    def make_context(self) -> Any:
        """The people and things the rows share (an app's crew)."""
        raise NotImplementedError

    def make_user(self, role: str, context: Any) -> Any:
        """The user who plays `role` in every generated test (the crew's own where the role is theirs)."""
        raise NotImplementedError

    def make_row(self, state: str, context: Any) -> models.Model:
        """A row in `state`, gone there through the app's services, visible to every reader."""
        raise NotImplementedError

    def make_rows(self, count: int, context: Any) -> None:
        """`count` more rows for the query counts, with every relation a list row shows (default: `make_row`)."""
        for n in range(count):
            self.make_row(self.states[n % len(self.states)], context)

    def transition_payload(self, name: str, context: Any) -> dict[str, Any]:
        """Valid JSON data for the transition (its comment included where one is required)."""
        return {}

    def policy_names(self, role: str, state: str) -> set[str]:
        """The policy's names the role answers to for a row in `state` (default: the role's own name)."""
        return {role}

    def refusal_code(self, state: str, name: str, role: str) -> str:
        """The code of a 403 (an app may explain some refusals, e.g. segregation of duties)."""
        return "permission_denied"

    # --- what the matrix says ---------------------------------------------------------------------------------

    def rules(self, name: str) -> list[Rule]:
        """The transition's rules: one, or one per group of source states when who decides differs by state."""
        declared = self.matrix[name]
        return declared if isinstance(declared, list) else [declared]

    def expected(self, state: str, name: str, role: str) -> tuple[int, str]:
        """(HTTP status, state reached or error code): unknown or internal 400, wrong state 409, not this role's
        403, blocked by a declared rule 409 — in the order the API checks them, after its permissions have
        refused the read-only roles any write."""
        if role in self.read_only:
            return 403, "permission_denied"
        if name in self.internal:
            return 400, "unknown_transition"
        policy = next((r for r in self.rules(name) if state in r.sources), None)
        if policy is None:
            return 409, "invalid_state"
        if not policy.who & self.policy_names(role, state):
            return 403, self.refusal_code(state, name, role)
        if (state, name) in self.blocked:
            return 409, self.blocked[(state, name)]
        return 200, state if policy.target == SAME else policy.target

    # --- parametrisation ----------------------------------------------------------------------------------------

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        """Spread each generated test over the declared roles, states and transitions."""
        test = metafunc.function.__name__
        transitions = sorted([*self.matrix, *self.internal])
        cases: dict[str, tuple[tuple[str, ...], list[tuple[str, ...]]]] = {
            "test_list_by_role": (("role",), [(role,) for role in self._reading_roles()]),
            "test_detail_by_role": (("role", "state"), [(r, s) for r in self._reading_roles() for s in self.states]),
            "test_outsider_never_sees_a_row": (("role", "state"), [(r, s) for r in self.outsiders
                                                                   for s in self.states]),
            "test_transition": (("state", "name", "role"), [(s, n, r) for s in self.states for n in transitions
                                                            for r in self.matrix_roles]),
            "test_available_transitions": (("role", "state"), [(r, s) for r in self.matrix_roles
                                                               for s in self.states]),
            "test_list_query_count": (("role",), [(role,) for role in self.list_queries]),
            "test_detail_query_count": (("role", "state"), [(r, s) for r in self.detail_queries
                                                            for s in self.query_states]),
        }
        if test not in cases:
            return
        names, values = cases[test]
        params = []
        for case in values:
            given = dict(zip(names, case, strict=True))
            key = (test, given.get("role", ""), given.get("state", ""), given.get("name", ""))
            defect = self.known_defects.get(key)
            marks = [pytest.mark.xfail(strict=True, reason=defect)] if defect else []
            params.append(pytest.param(*case, id="-".join(case), marks=marks))
        metafunc.parametrize(names, params)

    def _reading_roles(self) -> list[str]:
        return [*self.readers, *self.outsiders, *self.refused]

    # --- the world ----------------------------------------------------------------------------------------------

    @pytest.fixture(scope="class")
    def world(self, django_db_setup: None, django_db_blocker: Any) -> Iterator[World]:
        """Built once per class in a transaction rolled back after it: the tests run in savepoints inside it."""
        with class_transaction(django_db_blocker):
            with django_db_blocker.unblock():
                context = self.make_context()
                roles = dict.fromkeys([*self._reading_roles(), *self.matrix_roles, *self.list_queries,
                                       *self.detail_queries])
                users = {role: self.make_user(role, context) for role in roles}
                rows = {}
                for state in self.states:
                    row = self.make_row(state, context)
                    assert getattr(type(row).objects.get(pk=row.pk), self._state_field()) == state, state
                    rows[state] = row.pk
            yield World(context, users, rows)

    def _state_field(self) -> str:
        return state_field_name(self.model)

    def list_url(self) -> str:
        return reverse(f"{self.basename}-list")

    def detail_url(self, pk: int) -> str:
        return reverse(f"{self.basename}-detail", kwargs={"pk": pk})

    def transition_url(self, pk: int, name: str) -> str:
        return reverse(f"{self.basename}-transition", kwargs={"pk": pk, "transition": name})

    def _state_of(self, pk: int) -> str:
        return self.model.objects.values_list(self._state_field(), flat=True).get(pk=pk)

    # --- the generated tests ------------------------------------------------------------------------------------

    def test_the_matrix_covers_every_transition(self) -> None:
        """The declared matrix names every transition of the model, the internal ones apart."""
        assert sorted(transition_names(self.model)) == sorted([*self.matrix, *self.internal])

    def test_anonymous_reads_and_moves_nothing(self, world: World, api: Any) -> None:
        """Without credentials every endpoint answers 401 and no row moves."""
        assert_error(api.get(self.list_url()), 401, "not_authenticated")
        logs = TransitionLog.objects.count()
        for state, pk in world.rows.items():
            assert_error(api.get(self.detail_url(pk)), 401, "not_authenticated")
            for name in self.matrix:
                response = api.post(self.transition_url(pk, name), self.transition_payload(name, world.context),
                                    format="json")
                assert_error(response, 401, "not_authenticated")
            assert self._state_of(pk) == state
        assert TransitionLog.objects.count() == logs

    def test_list_by_role(self, world: World, api_as: Any, role: str) -> None:
        response = api_as(world.users[role]).get(self.list_url(), {"page_size": 100})
        if role in self.refused:
            assert_error(response, 403, "permission_denied")
            return
        assert response.status_code == 200, response.content[:500]
        shown = {row["id"] for row in response.json()["results"]}
        made = set(world.rows.values())
        if role in self.outsiders:
            assert not shown & made, f"{role} sees {sorted(shown & made)}"
        else:
            assert made <= shown, f"{role} misses {sorted(made - shown)}"

    def test_detail_by_role(self, world: World, api_as: Any, role: str, state: str) -> None:
        pk = world.rows[state]
        response = api_as(world.users[role]).get(self.detail_url(pk))
        if role in self.refused:
            assert_error(response, 403, "permission_denied")
        elif role in self.outsiders:
            assert_error(response, 404, "not_found")
        else:
            assert response.status_code == 200, response.content[:500]
            assert (response.json()["id"], response.json()["state"]) == (pk, state)

    def test_outsider_never_sees_a_row(self, world: World, api_as: Any, role: str, state: str) -> None:
        """Another department's row: not in a search for its number, 404 on every endpoint, moved by no
        transition (each one answers 404, before its state or the role are looked at)."""
        pk = world.rows[state]
        client = api_as(world.users[role])
        number = self.model.objects.get(pk=pk).number
        found = client.get(self.list_url(), {self.search_param: number})
        assert found.status_code == 200 and found.json()["results"] == [], found.content[:500]
        for suffix in ("", "available-transitions/", "timeline/"):
            assert_error(client.get(self.detail_url(pk) + suffix), 404, "not_found")
        logs = TransitionLog.objects.count()
        for name in sorted([*self.matrix, *self.internal]):
            response = client.post(self.transition_url(pk, name), self.transition_payload(name, world.context),
                                   format="json")
            assert_error(response, 404, "not_found")
        assert (self._state_of(pk), TransitionLog.objects.count()) == (state, logs)

    def test_transition(self, world: World, api_as: Any, state: str, name: str, role: str) -> None:
        pk = world.rows[state]
        user = world.users[role]
        status, outcome = self.expected(state, name, role)
        logs = TransitionLog.objects.count()
        response = api_as(user).post(self.transition_url(pk, name), self.transition_payload(name, world.context),
                                     format="json")
        if status != 200:
            assert_error(response, status, outcome)
            assert (self._state_of(pk), TransitionLog.objects.count()) == (state, logs)
            return
        assert response.status_code == 200, response.content[:500]
        assert response.json()["state"] == outcome == self._state_of(pk)
        assert TransitionLog.objects.count() == logs + 1
        log = TransitionLog.objects.order_by("-pk").first()
        assert (log.object_id, log.transition, log.source_state, log.target_state, log.actor_id) == (
            pk, name, state, outcome, user.pk)

    def test_available_transitions(self, world: World, api_as: Any, role: str, state: str) -> None:
        """The detail offers the caller exactly the transitions the matrix lets them take from this state."""
        allowed = sorted(name for name in self.matrix if self.expected(state, name, role)[0] == 200)
        response = api_as(world.users[role]).get(self.detail_url(world.rows[state]))
        assert response.status_code == 200, response.content[:500]
        assert sorted(response.json()["available_transitions"]) == allowed

    def _count(self, client: Any, path: str) -> int:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(path, {"page_size": 100})
        assert response.status_code == 200, response.content[:500]
        return len(queries.captured_queries)

    def test_list_query_count(self, world: World, api_as: Any, django_assert_num_queries: Any, role: str) -> None:
        """The list's queries do not grow with its rows (N, then 3N), and are the number pinned."""
        client = api_as(world.users[role])
        self._count(client, self.list_url())  # the first request fills per-process caches
        self.make_rows(self.rows_per_step, world.context)
        few = self._count(client, self.list_url())
        self.make_rows(2 * self.rows_per_step, world.context)
        many = self._count(client, self.list_url())
        assert few == many, f"{few} queries with {self.rows_per_step} rows more, {many} with three times as many"
        with django_assert_num_queries(self.list_queries[role]):
            client.get(self.list_url(), {"page_size": 100})

    def test_detail_query_count(self, world: World, api_as: Any, django_assert_num_queries: Any, role: str,
                                state: str) -> None:
        """A row's detail costs the same whatever else the table holds (N rows, then 3N), and the number pinned."""
        client = api_as(world.users[role])
        path = self.detail_url(world.rows[state])
        self._count(client, path)
        self.make_rows(self.rows_per_step, world.context)
        few = self._count(client, path)
        self.make_rows(2 * self.rows_per_step, world.context)
        many = self._count(client, path)
        assert few == many, f"{few} queries with {self.rows_per_step} rows more, {many} with three times as many"
        with django_assert_num_queries(self.detail_queries[role]):
            client.get(path)
