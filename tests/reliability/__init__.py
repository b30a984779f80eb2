"""Reliability tests (issue 9): overload, schema fuzzing, round-trip properties.

Bounded for CI by default; ``pytest --full`` runs them larger (see scale.py).
"""
