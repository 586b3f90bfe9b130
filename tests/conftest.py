"""Shared fixtures. Fixture modules of each area are registered as plugins below."""

pytest_plugins = ["tests.s3server", "tests.dbs"]
