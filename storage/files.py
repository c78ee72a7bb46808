"""Citizens' files on disk, named by their SHA-256, written atomically, readable by the owner only."""
from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

from storage.permissions import FILE_MODE, private_dir

SHA256_HEX = re.compile(r"[0-9a-f]{64}")


class FileStore:
    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        self._root_ready = False

    def _path(self, sha: str) -> Path:
        if not isinstance(sha, str) or not SHA256_HEX.fullmatch(sha):
            raise ValueError("not a SHA-256 hex digest")  # also keeps "../" out of paths
        return self.root / sha[:2] / sha

    def put(self, data: bytes) -> str:
        sha = hashlib.sha256(data).hexdigest()
        path = self._path(sha)
        if not path.exists():
            if not self._root_ready:
                private_dir(self.root)  # 0700, tightened if an older version made it looser
                self._root_ready = True
            private_dir(path.parent)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{sha[:16]}.", suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as f:
                    os.fchmod(f.fileno(), FILE_MODE)
                    f.write(data)
                    f.flush()
                    os.fsync(f.fileno())
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        return sha

    def get(self, sha: str) -> bytes:
        return self._path(sha).read_bytes()

    def delete(self, sha: str) -> bool:
        """Remove a file no longer referenced (the caller knows that); False if it was not there."""
        path = self._path(sha)
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        try:
            path.parent.rmdir()  # only when empty
        except OSError:
            pass
        return True
