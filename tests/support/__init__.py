"""Helpers shared by test suites of both environments (``.venv/rasa`` and ``.venv/app``).

Standard library (and pytest) at import time only: third-party packages that exist in one
environment alone are imported inside the functions that need them.
"""
