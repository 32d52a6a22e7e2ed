"""Fixtures the problem tests share."""

import pytest

from problems.tests.factories import ProblemCrew, make_crew


@pytest.fixture
def crew(db) -> ProblemCrew:  # noqa: ANN001
    """A problem manager, a supervisor, the engineer who owns the problems, another engineer, a duty officer."""
    return make_crew()
