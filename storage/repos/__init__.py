"""Repositories: every query of the program. Services call these and never build SQL."""
