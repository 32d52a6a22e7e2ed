"""A small ticket model that proves the workflow kernel without any process app (tests only)."""
