"""The one error a rule raises: what is wrong and where, in the reader's language."""

from django.utils.translation import gettext as _


def line_and_column(text: str, position: int) -> tuple[int, int]:
    """1-based line and column of the 0-based character offset ``position`` in ``text``."""
    before = text[:position]
    line = before.count("\n") + 1
    column = position - (before.rfind("\n") + 1) + 1
    return line, column


class RuleError(ValueError):
    """A rule that does not parse, names an unknown fact or compares values of the wrong type.

    ``position`` is the 0-based character offset of the fault (``len(text)`` for "at the end"),
    ``line``/``column`` are 1-based, ``where`` is the translated place ("at line 1, column 5")
    and ``message``/``str(error)`` the whole message in the active language, e.g. "Unknown
    fact 'dpdd' at line 1, column 1. Did you mean 'dpd'?".
    """

    def __init__(self, template: str, *, text: str, position: int, **params):
        self.position = max(0, min(position, len(text)))
        self.line, self.column = line_and_column(text, self.position)
        self.text = text
        self.where = _("at line %(line)d, column %(column)d") % {"line": self.line, "column": self.column}
        self.message = template % {**params, "where": self.where}
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message

    def __reduce__(self):
        # Picklable (a Celery task may raise it): rebuilt from its parts, not re-translated.
        return _rebuild, (self.message, self.text, self.position)


def _rebuild(message: str, text: str, position: int) -> RuleError:
    error = RuleError.__new__(RuleError)
    ValueError.__init__(error, message)
    error.message, error.text, error.position = message, text, position
    error.line, error.column = line_and_column(text, position)
    error.where = ""
    return error
