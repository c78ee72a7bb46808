"""Owner-only permissions for the data folder, the SQLite database and citizens' files.

152-FZ art. 19 asks for measures against unauthorised access to personal data; on one
host that starts with folders 0700 and files 0600, whatever the umask says.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path

from sqlalchemy.engine import make_url

DIR_MODE = 0o700
FILE_MODE = 0o600
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")


def make_private_dirs(path: Path | str) -> list[Path]:
    """Create the missing folders of `path` as 0700; return the ones created, top first."""
    path = Path(path)
    missing = []
    p = path
    while not p.exists() and p != p.parent:
        missing.append(p)
        p = p.parent
    created = []
    for p in reversed(missing):
        try:
            os.mkdir(p, DIR_MODE)
        except FileExistsError:
            continue  # made by someone else meanwhile
        os.chmod(p, DIR_MODE)  # the umask may have taken bits away; exactly 0700
        created.append(p)
    return created


def private_dir(path: Path | str) -> Path:
    """A folder of our own: created as 0700, and tightened to 0700 if it was looser."""
    path = Path(path)
    make_private_dirs(path)
    if stat.S_IMODE(path.stat().st_mode) != DIR_MODE:
        os.chmod(path, DIR_MODE)
    return path


def secure_sqlite_file(path: Path | str) -> Path:
    """Data folder 0700; the database and its -wal/-shm/-journal files 0600.

    A missing database is created empty with 0600 (SQLite takes an empty file as an empty
    database), so the -wal and -shm files SQLite makes later copy that mode. The folder is
    tightened when it is our own: not the current or home folder, not a shared one like /tmp.
    """
    path = Path(path)
    folder = path.parent
    if not make_private_dirs(folder) and _own_folder(folder):
        private_dir(folder)
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE))
    for p in (path, *(Path(f"{path}{suffix}") for suffix in SQLITE_COMPANIONS)):
        if p.exists():
            os.chmod(p, FILE_MODE)
    return path


def sqlite_path(database_url: str) -> Path | None:
    """The file of an SQLite database URL; None for other databases and for :memory:."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database)


def _own_folder(folder: Path) -> bool:
    resolved = folder.resolve()
    if resolved in (Path.cwd().resolve(), Path.home().resolve(), Path(resolved.anchor)):
        return False
    return not resolved.stat().st_mode & stat.S_ISVTX
