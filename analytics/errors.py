"""Errors that carry a sentence meant for the user, never a traceback."""


class UserError(Exception):
    """Input the program refuses; the message says what is wrong and what to do."""


class ImportRefused(UserError):
    """A file that cannot be imported at all; the database is left unchanged."""
