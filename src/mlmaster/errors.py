"""Errors a user can act on. The CLI prints their message (no traceback) and exits 2."""


class UserError(Exception):
    """Bad input from the user: the message says what was wrong and what to do."""

    exit_code = 2
