"""Files beside the database that hold customer data or code-bearing payloads: owner-only, written
whole, and read back only when their SHA-256 matches the one the database recorded.

The database and its side files (kept page results, fitted models, backups) hold phone numbers,
so folders are created 0700 and files 0600. Kept results and models are in a format that runs no
code when read (``safe_payload``), and a file someone else put in the folder is not even read,
because its checksum is not the one this program recorded when it wrote the file.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600
_UMASK = threading.Lock()  # the umask is the process's: one owner-only window at a time


def private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) if needed, owner-only; return it."""
    path.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    with contextlib.suppress(OSError):  # a folder of another owner: its mode is not ours to set
        os.chmod(path, DIR_MODE)
    return path


@contextlib.contextmanager
def owner_only_umask() -> Iterator[None]:
    """Make every file and folder created inside the ``with`` block owner-only (umask 077), for the
    files a library creates itself with no mode to give (DuckDB's database and its log): they are
    never readable by others, not even for the moment before a ``chmod``.

    The umask is the process's: files other threads create meanwhile are owner-only too, which
    is what this program wants of its files anyway. The umask before the block is put back after it.
    """
    with _UMASK:
        before = os.umask(0o077)
        try:
            yield
        finally:
            os.umask(before)


def write_owner_only(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` (a file the user named, in a folder of theirs: its mode is left
    alone) readable by its owner only, 0600, also when it replaces a file; return the path."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with os.fdopen(fd, "wb") as handle:
        os.fchmod(handle.fileno(), FILE_MODE)
        handle.write(data)
    return path


def write_private(path: Path, data: bytes) -> str:
    """Write ``data`` to ``path`` whole (a temporary file renamed over it), mode 0600; return its SHA-256.

    On any failure (a full disk, say) the temporary file is removed and the error raised.
    """
    private_dir(path.parent)
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return hashlib.sha256(data).hexdigest()


def read_verified(path: Path, sha256: str | None) -> bytes | None:
    """Return the bytes of ``path`` when their SHA-256 is ``sha256``; None when missing or different."""
    if not sha256:
        return None
    try:
        data = path.read_bytes()
    except OSError:
        return None
    return data if hashlib.sha256(data).hexdigest() == sha256 else None
