"""Helpers that run peer packages for side-by-side checks (test-only)."""
