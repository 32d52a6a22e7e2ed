"""Fixtures the incident page tests share."""

import pytest

from opscenter.core.demo import seed_organisation
from opscenter.core.models import User


@pytest.fixture
def demo(db) -> dict[str, User]:  # noqa: ANN001
    """The demo organisation (its departments, teams and a user per role), by user name."""
    seed_organisation("pw")
    return {user.username: user for user in User.objects.all()}
