"""Tests every process app gets by declaring itself, the way NetBox's `utilities/testing` generates API tests:
an app's `tests/test_generated.py` subclasses `ProcessAppTests`, declares its model, its API basename, how to make
a row in each state and a user for each role, who reads what, and its transition matrix written from the policy,
and the base generates the API answers by role, visibility, the transition matrix and pinned query counts."""

from opscenter.core.testing.process_app import SAME, ProcessAppTests, Rule, World, rule

__all__ = ["SAME", "ProcessAppTests", "Rule", "World", "rule"]
