"""152-FZ art. 19: citizens' files and the database are readable by the owner only (folders 0700, files 0600)."""
from __future__ import annotations

import hashlib
import os
import sqlite3
import stat
from pathlib import Path

import pytest

from storage.files import FileStore
from storage.permissions import private_dir, secure_sqlite_file, sqlite_path


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def loose_umask():
    """The common umask 022 would leave everything world-readable; the code must not rely on it."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_file_store_folders_are_0700_and_files_0600(tmp_path):
    """152-FZ art. 19: files readable by the owner only."""
    store = FileStore(tmp_path / "data" / "files")
    sha = store.put(b"%PDF-1.4 passport scan")
    path = tmp_path / "data" / "files" / sha[:2] / sha
    assert store.get(sha) == b"%PDF-1.4 passport scan"
    assert mode(tmp_path / "data") == 0o700
    assert mode(tmp_path / "data" / "files") == 0o700
    assert mode(path.parent) == 0o700
    assert mode(path) == 0o600
    assert [p.name for p in path.parent.iterdir()] == [sha]  # no temporary file left


def test_file_store_tightens_folders_an_older_version_left_open(tmp_path):
    """152-FZ art. 19: files readable by the owner only, also after an upgrade."""
    root = tmp_path / "files"
    root.mkdir(mode=0o755)
    sub = root / hashlib.sha256(b"x").hexdigest()[:2]
    sub.mkdir(mode=0o755)
    FileStore(root).put(b"x")
    assert mode(root) == 0o700 and mode(sub) == 0o700


def test_same_content_is_stored_once(tmp_path):
    store = FileStore(tmp_path)
    assert store.put(b"same") == store.put(b"same") == hashlib.sha256(b"same").hexdigest()


def test_delete_removes_the_file_and_its_empty_folder(tmp_path):
    store = FileStore(tmp_path / "files")
    first, second = store.put(b"one"), store.put(b"two")
    assert store.delete(first) is True
    assert not (tmp_path / "files" / first[:2]).exists() or first[:2] == second[:2]
    assert store.delete(first) is False
    with pytest.raises(FileNotFoundError):
        store.get(first)
    assert store.get(second) == b"two"


def test_delete_keeps_a_folder_shared_with_another_file(tmp_path):
    store = FileStore(tmp_path)
    a = store.put(b"a")
    other = a[:2] + "0" * 62  # another file in the same subfolder
    (tmp_path / a[:2] / other).write_bytes(b"other")
    assert store.delete(a)
    assert (tmp_path / a[:2] / other).read_bytes() == b"other"


@pytest.mark.parametrize("sha", ["../../etc/passwd", "ab", "A" * 64, "g" * 64, ""])
def test_only_sha256_names_reach_the_disk(tmp_path, sha):
    store = FileStore(tmp_path)
    for call in (store.get, store.delete):
        with pytest.raises(ValueError):
            call(sha)


def test_secure_sqlite_file_before_the_first_connection(tmp_path):
    """152-FZ art. 19: the database, its WAL and shared-memory files are readable by the owner only."""
    db = tmp_path / "data" / "assistant.db"
    secure_sqlite_file(db)
    assert mode(tmp_path / "data") == 0o700 and mode(db) == 0o600
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE citizen (name TEXT)")
    conn.execute("INSERT INTO citizen VALUES ('Иванов')")
    conn.commit()
    try:
        for suffix in ("-wal", "-shm"):  # SQLite copies the database file's mode
            assert mode(Path(f"{db}{suffix}")) == 0o600
    finally:
        conn.close()


def test_secure_sqlite_file_tightens_an_existing_database(tmp_path):
    """152-FZ art. 19: the database, its WAL and shared-memory files are readable by the owner only."""
    folder = tmp_path / "data"
    folder.mkdir(mode=0o755)
    files = [folder / "a.db", folder / "a.db-wal", folder / "a.db-shm"]
    for f in files:
        f.write_bytes(b"")
        f.chmod(0o644)
    secure_sqlite_file(files[0])
    assert mode(folder) == 0o700
    assert [mode(f) for f in files] == [0o600] * 3


def test_secure_sqlite_file_leaves_the_current_folder_alone(tmp_path, monkeypatch):
    tmp_path.chmod(0o755)
    monkeypatch.chdir(tmp_path)
    secure_sqlite_file("bot.db")
    assert mode(tmp_path) == 0o755 and mode(tmp_path / "bot.db") == 0o600


def test_private_dir_ignores_the_umask(tmp_path):
    os.umask(0o777)
    try:
        assert mode(private_dir(tmp_path / "a" / "b")) == 0o700
    finally:
        os.umask(0o022)
    assert mode(tmp_path / "a") == 0o700


@pytest.mark.parametrize("url, path", [
    ("sqlite+aiosqlite:///./data/assistant.db", Path("./data/assistant.db")),
    ("sqlite:////var/lib/bot/db.sqlite", Path("/var/lib/bot/db.sqlite")),
    ("sqlite+aiosqlite:///:memory:", None),
    ("sqlite+aiosqlite://", None),
    ("postgresql+asyncpg://u@h/db", None),
])
def test_sqlite_path(url, path):
    assert sqlite_path(url) == path
