"""Rasa SDK action server: thin adapters over the pure logic in ``admissions``.

The action server imports every module here; none of them does work at import time.
"""
