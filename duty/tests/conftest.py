"""Fixtures of the duty tests."""

from typing import Any

import pytest


@pytest.fixture
def browser_page(browser_page: Any) -> Any:
    """The duty policy's row and the roles' duty permissions, written again after an earlier browser test's flush
    (those tests run in transactions that end by emptying every table)."""
    import importlib

    from django.apps import apps

    importlib.import_module("duty.migrations.0002_policy_and_roles").create_defaults(apps, None)
    return browser_page
