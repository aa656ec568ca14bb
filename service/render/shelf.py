"""Logo and background images handed to the render workers once, not with every job.

The server writes each image a batch needs once into a private directory, named by its
content hash; a chunk of jobs carries only a ``Shelved`` reference (the directory and the
hashes), and a worker reads an image from it the first time one of its drawings needs it
(its prepared layers are then kept per worker and drawing: ``layers``, ``overlay``). An
image stays on the shelf while any chunk that names it is queued or rendering; past the
shelf's byte budget the least recently lent unpinned images are removed.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from collections import Counter, OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from ..lru import LRU

__all__ = ["Shelf", "Shelved"]

# what a worker keeps of the images it read (its prepared layers are kept apart, by drawing)
_read: LRU[tuple[str, str], bytes] = LRU(64 * 2**20, len, largest=16 * 2**20)


class Shelved(Mapping[str, bytes]):
    """The images of one chunk of jobs, by content hash, read from the shelf on demand."""

    __slots__ = ("root", "shas")

    def __init__(self, root: str, shas: tuple[str, ...]) -> None:
        self.root = root
        self.shas = shas

    def __reduce__(self) -> tuple[type[Shelved], tuple[str, tuple[str, ...]]]:
        return Shelved, (self.root, self.shas)

    def __getitem__(self, sha: str) -> bytes:
        if sha not in self.shas:
            raise KeyError(sha)
        return _read.get_or_make((self.root, sha), lambda: Path(self.root, sha).read_bytes())

    def __iter__(self) -> Iterator[str]:
        return iter(self.shas)

    def __len__(self) -> int:
        return len(self.shas)


class Shelf:
    """The server's side: ``lend`` puts images on the shelf (each written once) and pins
    them until ``release``."""

    def __init__(self, budget: int = 256 * 2**20) -> None:
        self.budget = budget
        self.root = Path(tempfile.mkdtemp(prefix="qrstudio-assets-"))
        self.writes = 0  # images written, for the tests and the bench
        self._sizes: OrderedDict[str, int] = OrderedDict()
        self._pins: Counter[str] = Counter()
        self._lock = threading.Lock()

    def lend(self, assets: Mapping[str, bytes], shas: Iterable[str]) -> Shelved:
        names = tuple(dict.fromkeys(shas))
        with self._lock:
            for sha in names:
                if sha in self._sizes:
                    self._sizes.move_to_end(sha)
                else:
                    self._write(sha, assets[sha])
                self._pins[sha] += 1
            self._evict()
        return Shelved(str(self.root), names)

    def release(self, shelved: Shelved) -> None:
        with self._lock:
            for sha in shelved.shas:
                self._pins[sha] -= 1
                if self._pins[sha] <= 0:
                    del self._pins[sha]
            self._evict()

    def _write(self, sha: str, data: bytes) -> None:
        if not sha.isalnum():
            raise ValueError(f"not a content hash: {sha!r}")
        part = self.root / f".{sha}.part"
        part.write_bytes(data)
        os.replace(part, self.root / sha)  # a reader never sees half an image
        self._sizes[sha] = len(data)
        self.writes += 1

    def _evict(self) -> None:
        total = sum(self._sizes.values())
        for sha in list(self._sizes):
            if total <= self.budget:
                break
            if self._pins[sha] == 0:
                (self.root / sha).unlink(missing_ok=True)
                total -= self._sizes.pop(sha)

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
