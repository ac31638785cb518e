"""Admissions assistant: the product code that is not Rasa itself.

This package is shared by two environments, so its ``__init__`` imports nothing:
the pure core (facility config, schedule parsing, fit scoring, spaCy pipeline builder)
runs beside Rasa on Python 3.10; ``admissions.web``, ``admissions.db`` and
``admissions.training`` run only in the staff app environment.
"""
