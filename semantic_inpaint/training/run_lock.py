"""One run at a time per run folder: an exclusive advisory lock on ``OUTPUT_DIR/.lock``.

Two trainers started into the same ``output_dir`` would interleave their logs and overwrite
each other's checkpoints; the second one now stops before writing anything and names the
process that holds the folder. The lock is an ``flock`` on an open file, so the operating
system releases it when its process dies, even by SIGKILL: a crashed run never leaves a
stale lock behind. (On systems without ``fcntl``, such as Windows, runs are not locked.)
"""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path
from typing import IO

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]


class RunFolderLock:
    """An exclusive lock on a run folder, held from :meth:`acquire` to :meth:`release`.

    Examples:
        >>> import tempfile
        >>> folder = Path(tempfile.mkdtemp())
        >>> first, second = RunFolderLock(folder), RunFolderLock(folder)
        >>> first.acquire()
        >>> second.acquire()
        Traceback (most recent call last):
        ...
        FileExistsError: output_dir: ... is in use by another run (pid ...); wait for it to end or ...
        >>> first.release(); second.acquire(); second.release()
    """

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.path = self.folder / ".lock"
        self._handle: IO[str] | None = None

    @property
    def held(self) -> bool:
        return self._handle is not None

    def acquire(self) -> None:
        """Take the lock, or raise ``FileExistsError`` naming the process that holds it."""
        if self._handle is not None or fcntl is None:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 (held open while the lock is)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "an unknown process"
            handle.close()
            raise FileExistsError(
                f"output_dir: {self.folder} is in use by another run ({holder}); "
                f"wait for it to end or choose another output_dir"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} on {socket.gethostname()}, since {time.strftime('%Y-%m-%d %H:%M:%S')}\n")
        handle.flush()
        self._handle = handle

    def release(self) -> None:
        """Give the folder back (idempotent)."""
        if self._handle is not None:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None
