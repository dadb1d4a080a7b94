"""Keeps pytest's ``--doctest-modules`` from importing the freqtrade strategy here: it
imports freqtrade, which lives in its own virtual environment (``tests/test_freqtrade.py``)."""

collect_ignore = ["quick_flip.py"]
