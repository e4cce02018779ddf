"""Write operations of the strategy app: one function per use case, each in a transaction.

- ``configuration``: the whole configuration of an organization (settings, templates,
  segments, stages, strategies with variants and steps) validated together and applied as
  an upsert by code — the YAML import and every back-office form go through it;
- ``holds``: place_hold, approve_hold, release_hold;
- ``stages``: move_case_stage (a person's move, with a reason).

``specs`` holds the plain shapes a configuration is made of, ``validation`` the checks.
"""

from django.core.exceptions import ValidationError


class StrategyError(ValidationError):
    """A strategy operation was refused; the message says what and where. Nothing was stored."""


class ConfigurationError(StrategyError):
    """A configuration that does not validate. ``problems`` lists each one with its path."""

    def __init__(self, problems):
        self.problems = list(problems)
        super().__init__([str(p) for p in self.problems], code="invalid_configuration")


__all__ = ["ConfigurationError", "StrategyError"]
