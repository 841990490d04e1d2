"""Errors that carry a sentence meant for the user, never a traceback."""


class UserError(Exception):
    """Input the program refuses; the message says what is wrong and what to do.

    ``str(exc)`` is the English sentence (the command line, the audit log and the reports keep
    it); ``zh``, when given, is the same sentence in Chinese for the dashboard and the Chinese
    reports, whole or not at all (never half translated).
    """

    def __init__(self, *args: object, zh: str | None = None) -> None:
        super().__init__(*args)
        self.zh = zh

    def words(self, lang: str) -> str:
        """Return the sentence in ``lang``: the Chinese one in "zh" when there is one, else English."""
        return self.zh if lang == "zh" and self.zh else str(self)


class ImportRefused(UserError):
    """A file that cannot be imported at all; the database is left unchanged."""


class DatabaseDamaged(UserError):
    """The database file cannot be read (a checksum mismatch, not a DuckDB file, a write-ahead log
    that does not belong to it); the message says what to do, naming the latest backup."""


class DiskFull(UserError):
    """The disk ran out of space; the message says so and how much to free."""


class DatabaseLocked(UserError):
    """The database file is open in another program; the message says which and what to do.

    ``holder`` describes that program for a sentence ("the dashboard, process 4242"), ``kind``
    is "dashboard", "command" or "program" so that the dashboard can word its own advice.
    """

    def __init__(self, message: str, *, path: str, holder: str, kind: str) -> None:
        super().__init__(message)
        self.path = path
        self.holder = holder
        self.kind = kind
