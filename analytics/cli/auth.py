"""The ``hash-password`` command: the hash to put in the secrets file for a local account."""

from __future__ import annotations

import argparse
import sys

from analytics.core.auth import (
    EXAMPLE_PASSWORDS,
    hash_password,
)
from analytics.core.errors import UserError


def add_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register the hash-password command."""
    p = sub.add_parser(
        "hash-password",
        help="print an argon2 hash of a password to paste into .streamlit/secrets.toml",
        description="Ask for a password twice (or read one line from stdin with --stdin) and print "
        "its argon2id hash for password_hash under [auth.accounts.NAME]. The password itself is "
        "never stored or printed.",
    )
    p.add_argument("--stdin", action="store_true", help="read the password from the first line of stdin")
    p.set_defaults(handler=_hash_password_command)


MIN_PASSWORD_LENGTH = 8


def _hash_password_command(args: argparse.Namespace) -> int:
    if args.stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        import getpass

        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            raise UserError("the two passwords differ; nothing was printed.")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters.")
    if password in EXAMPLE_PASSWORDS:
        raise UserError("that password is published in .streamlit/secrets.toml.example; choose another.")
    print(hash_password(password))
    return 0
