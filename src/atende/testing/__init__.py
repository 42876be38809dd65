"""Helpers shared by the test suites of every app: factories and process fixtures."""
