import pytest

from changes.choices import ChangeType, RiskLevel, State
from changes.tests.factories import approved_template, change_in_state, make_crew

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("risk", [RiskLevel.LOW, RiskLevel.MAJOR])
def test_normal_change_main_road(risk):
    change = change_in_state(State.CLOSED, risk=risk)
    assert change.state == State.CLOSED
    assert change.votes.count() == (3 if risk == RiskLevel.MAJOR else 1)


def test_standard_and_emergency():
    crew = make_crew()
    template = approved_template(crew)
    change = change_in_state(State.APPROVED, crew, change_type=ChangeType.STANDARD, template=template)
    assert change.state == State.APPROVED
    change = change_in_state(State.CLOSED, crew, change_type=ChangeType.EMERGENCY, start_in=__import__("datetime").timedelta(hours=1))
    assert change.state == State.CLOSED and change.reviews.exists()


def test_off_road():
    for state in (State.REJECTED, State.CANCELLED, State.FAILED, State.ROLLED_BACK):
        assert change_in_state(state).state == state
