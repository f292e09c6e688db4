"""Where batches wait while the server cannot take them: a spool of JSONL files, or memory.

A spool file holds one native protocol message per line (the NDJSON that
`POST /api/v1/events` takes), so it can also be sent by hand. Each process appends to a file
of its own, `<pid>-<random>.jsonl`, locked with `flock` while the process lives; a process that
finds an unlocked file in its spool directory adopts it (its writer died before the server
came back) and sends it first. Lines are read back from the oldest file, and a file is
deleted once sent. A crash while sending resends the file from its start, which the server's
idempotent merge makes harmless.
"""

import collections
import itertools
import os

try:
    import fcntl
except ImportError:  # Windows: no adoption of other processes' files
    fcntl = None


class MemoryBacklog:
    """Lines kept in memory, at most `capacity`; used when the spool is switched off."""

    durable = False

    def __init__(self, capacity):
        self._lines = collections.deque()
        self._capacity = capacity

    def __len__(self):
        return len(self._lines)

    def append(self, lines):
        """Keeps what fits; returns how many lines did not."""
        room = max(0, self._capacity - len(self._lines))
        self._lines.extend(lines[:room])
        return len(lines) - min(room, len(lines))

    def peek(self, n):
        return list(itertools.islice(self._lines, n))

    def pop(self, n):
        for _ in range(min(n, len(self._lines))):
            self._lines.popleft()

    def close(self):
        """Forgets what is left; returns how many lines that was."""
        left = len(self._lines)
        self._lines.clear()
        return left


class _File:
    """One spool file being read from its start."""

    def __init__(self, path, fd):
        self.path = path
        self.fd = fd  # holds the lock
        self.reader = open(path, "rb")  # noqa: SIM115 - kept open while the file is drained
        self.peeked = []  # (line, byte length) read but not yet popped
        self.unread = 0  # lines appended and not read yet (only known for our own file)


class FileSpool:
    """JSONL files in `directory`: this process's own, and adopted orphans before it."""

    durable = True

    def __init__(self, directory):
        self.directory = directory
        self._files = collections.deque()  # oldest first; our own file, when open, is last
        self._own = None
        self._count = 0

    def __len__(self):
        return self._count

    def leftovers(self):
        """Whether the directory holds spool files (maybe left by processes that are gone)."""
        try:
            return any(name.endswith(".jsonl") for name in os.listdir(self.directory))
        except OSError:
            return False

    def adopt(self):
        """Takes over the unlocked spool files left by processes that are gone; returns how many lines."""
        if fcntl is None or not os.path.isdir(self.directory):
            return 0
        adopted = 0
        for name in sorted(os.listdir(self.directory)):
            path = os.path.join(self.directory, name)
            if not name.endswith(".jsonl") or (self._own and path == self._own.path):
                continue
            try:
                fd = os.open(path, os.O_RDWR)
            except OSError:
                continue
            if not _lock(fd):
                os.close(fd)
                continue
            f = _File(path, fd)
            with open(path, "rb") as counting:
                f.unread = sum(1 for line in counting if line.strip())
            adopted += f.unread
            self._files.insert(len(self._files) - (1 if self._own else 0), f)
        self._count += adopted
        return adopted

    def append(self, lines):
        """Appends `lines` to this process's file, on disk (fsync) before it returns; returns 0."""
        if self._own is None:
            os.makedirs(self.directory, exist_ok=True)
            path = os.path.join(self.directory, f"{os.getpid()}-{os.urandom(4).hex()}.jsonl")
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
            _lock(fd)
            self._own = _File(path, fd)
            self._files.append(self._own)
        data = ("\n".join(lines) + "\n").encode()
        view = memoryview(data)
        while view:
            view = view[os.write(self._own.fd, view) :]
        os.fsync(self._own.fd)
        self._own.unread += len(lines)
        self._count += len(lines)
        return 0

    def peek(self, n):
        """Up to `n` of the oldest lines, from one file."""
        while self._files:
            f = self._files[0]
            while len(f.peeked) < n:
                raw = f.reader.readline()
                if not raw:
                    break
                if raw.endswith(b"\n") and raw.strip():
                    f.peeked.append((raw[:-1].decode("utf-8", "replace"), len(raw)))
                elif not raw.endswith(b"\n"):  # a line still being written, or cut by a crash
                    f.reader.seek(-len(raw), os.SEEK_CUR)
                    break
            if f.peeked:
                return [text for text, _ in f.peeked[:n]]
            if f is self._own:
                return []
            self._finish(f)
        return []

    def pop(self, n):
        """Forgets the first `n` lines peeked; deletes a file once it is all sent."""
        f = self._files[0]
        done, f.peeked = f.peeked[:n], f.peeked[n:]
        f.unread -= len(done)
        self._count = max(0, self._count - len(done))
        if not f.peeked and f.unread <= 0:
            if f is self._own:
                self._own = None
            self._finish(f)

    def _finish(self, f):
        self._files.remove(f)
        f.reader.close()
        try:
            os.unlink(f.path)
        except OSError:
            pass
        os.close(f.fd)

    def close(self):
        """Lets go of the files (they stay on disk for the next process); returns 0."""
        for f in self._files:
            f.reader.close()
            os.close(f.fd)
        self._files.clear()
        self._own = None
        return 0


def _lock(fd):
    if fcntl is None:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError:
        return False
