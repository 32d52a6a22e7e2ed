"""The tabs every problem page shows under its heading (the navigation bar keeps one "Problems" entry): the problems,
the recurring-incident candidates waiting for a decision, and the known errors."""

from django.utils.translation import gettext_lazy as _

from opscenter.core.navigation import NavItem, register_tab
from problems import candidates
from problems.models import READERS

TABS = (
    NavItem(_("Problems"), "problems:problem-list", roles=READERS, order=10),
    NavItem(_("Candidates"), "problems:candidate-list", roles=candidates.READERS, order=20,
            sections=("/problems/candidates/",)),
    NavItem(_("Known errors"), "problems:knownerror-list", roles=READERS, order=30,
            sections=("/problems/known-errors/",)),
)


def register() -> None:
    for tab in TABS:
        register_tab("/problems/", tab)
