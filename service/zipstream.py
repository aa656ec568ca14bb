"""The archive stage: stream-zip driven from the event loop.

stream-zip is a synchronous generator that pulls members from an iterator, so it runs on a
thread of its own: the event loop hands it finished members (bytes with known size and CRC,
stored, ``NO_COMPRESSION_32``) through a queue and receives chunks back. The ZIP's end record
is written only by ``finish()``; ``abort()`` stops the writer without it, so an aborted stream
never forms an archive that opens.
"""

from __future__ import annotations

import asyncio
import queue
import stat
import threading
import zlib
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from typing import Any

from stream_zip import NO_COMPRESSION_32, Method, stream_zip

from .errors import StreamAborted

__all__ = ["CHUNK_SIZE", "END_RECORD", "ZipWriter", "member_overhead"]

END_RECORD = 22  # bytes of the end of central directory record (no comment)

CHUNK_SIZE = 16 * 1024
_END = object()
_ABORT = object()
_TICK = object()  # the writer thread finished a member
_MODE = stat.S_IFREG | 0o644


class _Aborted(Exception):
    pass


# stream-zip's NO_COMPRESSION_32(size, crc) defines a new class for every call (an ABC: about
# 0.1 ms each, a fifth of the server's time per item in a bulk stream). A stored member with
# a known size and CRC is the same method tuple each time but for those two numbers: taken
# once from the library itself, and carried by one class.
_STORED = NO_COMPRESSION_32(0, 0)._get(0, zlib.compressobj)


class _Stored(Method):
    __slots__ = ("crc32", "size")

    def __init__(self, size: int, crc32: int) -> None:
        self.size = size
        self.crc32 = crc32

    def _get(self, offset: int, default_get_compressobj: Any) -> Any:
        return (*_STORED[:2], default_get_compressobj, self.size, self.crc32)


def member_overhead(name: str) -> int:
    """Bytes a stored member adds beside its data: local header, central directory entry."""
    return 30 + 46 + 2 * len(name.encode())


class ZipWriter:
    def __init__(self, modified: datetime | None = None) -> None:
        """``modified``: the members' timestamp (a replay passes the first run's)."""
        self._loop = asyncio.get_running_loop()
        self._members: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._chunks: asyncio.Queue[object] = asyncio.Queue()
        self._modified = modified or datetime.now()
        self._added = self._written = 0
        self._ended = False  # the writer reached finish(): an archive ending sooner is broken
        self._thread = threading.Thread(target=self._run, name="zip-writer", daemon=True)
        self._thread.start()

    def _source(self) -> Iterator[Any]:
        while True:
            item = self._members.get()
            if item is _END:
                self._ended = True
                return
            if item is _ABORT:
                raise _Aborted
            yield item
            # stream-zip asks for the next member: this one is written (all but what its
            # chunker holds back until it has a whole chunk)
            self._written += 1
            self._loop.call_soon_threadsafe(self._chunks.put_nowait, _TICK)

    def _run(self) -> None:
        put = self._chunks.put_nowait
        try:
            for chunk in stream_zip(
                self._source(), chunk_size=CHUNK_SIZE, extended_timestamps=False
            ):
                self._loop.call_soon_threadsafe(put, chunk)
            if not self._ended:  # stream-zip stopped before the last member: never "complete"
                raise StreamAborted(
                    f"the ZIP writer stopped after {self._written} of {self._added} members"
                )
            self._loop.call_soon_threadsafe(put, _END)
        except _Aborted:
            pass
        except BaseException as exc:  # handed to the event loop, which raises it
            self._loop.call_soon_threadsafe(put, exc)

    def add(self, name: str, data: bytes, crc32: int) -> None:
        self._added += 1
        self._members.put((name, self._modified, _MODE, _Stored(len(data), crc32), (data,)))

    async def written(self) -> AsyncIterator[bytes]:
        """The chunks of every member added so far, waiting for the writer thread until it
        has written them all. A caller that yields each chunk to a slow client before adding
        more therefore holds at most one chunk of archive, never the archive."""
        while self._written < self._added:
            item = await self._chunks.get()
            if item is _TICK:
                continue
            if isinstance(item, BaseException):
                raise item
            if item is _END:  # cannot come before finish(); keep it for finish()
                self._chunks.put_nowait(_END)
                return
            yield item  # type: ignore[misc]
        while not self._chunks.empty():  # and whatever else is already there
            item = self._chunks.get_nowait()
            if isinstance(item, BaseException):
                raise item
            if item is _END:
                self._chunks.put_nowait(_END)
                return
            if item is not _TICK:
                yield item  # type: ignore[misc]

    async def finish(self) -> AsyncIterator[bytes]:
        """Close the archive (central directory, end record) and yield what remains."""
        self._members.put(_END)
        while True:
            item = await self._chunks.get()
            if item is _END:
                return
            if item is _TICK:
                continue
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]

    def abort(self) -> None:
        self._members.put(_ABORT)
