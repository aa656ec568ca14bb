"""The archive stage (``zipstream.ZipWriter``): every member reaches the archive whatever its
size, including sizes that put a member's header exactly on a chunk boundary (stream-zip
0.0.84 silently ended such archives early, uktrade/stream-zip#189: a 200 with a broken ZIP,
charged); and a writer that stops early is an error, never a finished archive."""

from __future__ import annotations

import asyncio
import io
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from typing import Any

import pytest

from service import zipstream
from service.errors import StreamAborted
from service.zipstream import CHUNK_SIZE, ZipWriter


def _header(name: str) -> int:
    return 30 + len(name)  # a stored member's local header: no extra field


def _boundary_members(n: int) -> list[tuple[str, bytes]]:
    """Members whose next local header ends exactly on a chunk boundary, each of them."""
    out: list[tuple[str, bytes]] = []
    offset = 0
    for i in range(n):
        name, following = f"qr-{i + 1:04d}.png", f"qr-{i + 2:04d}.png"
        end = offset + _header(name)
        size = -(end + _header(following)) % CHUNK_SIZE + CHUNK_SIZE * (1 + i % 3)
        data = bytes((i * 7 + k) % 251 for k in range(size))
        out.append((name, data))
        offset = end + size
    return out


async def _archive(members: list[tuple[str, bytes]]) -> bytes:
    writer = ZipWriter()
    parts: list[bytes] = []
    for name, data in members:
        writer.add(name, data, zlib.crc32(data))
        parts += [chunk async for chunk in writer.written()]
    parts += [chunk async for chunk in writer.finish()]
    return b"".join(parts)


def test_headers_on_chunk_boundaries_keep_every_member() -> None:
    members = _boundary_members(12) + [("manifest.json", b'{"total": 12}')]
    data = asyncio.run(_archive(members))
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        assert [(i.filename, archive.read(i)) for i in archive.infolist()] == members


def test_a_writer_that_stops_early_is_an_error_not_an_archive(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = zipstream.stream_zip

    def stops_after_the_first_member(files: Iterable[Any], **kwargs: Any) -> Iterator[bytes]:
        seen = []

        def first_only() -> Iterator[Any]:
            for member in files:
                seen.append(member)
                yield member
                return

        yield from real(first_only(), **kwargs)
        if seen:  # the library's generator returns as if it were done (what 0.0.84 did)
            return

    monkeypatch.setattr(zipstream, "stream_zip", stops_after_the_first_member)
    members = [(f"qr-{i:04d}.png", bytes(1000 + i)) for i in range(5)]
    with pytest.raises(StreamAborted, match="stopped after"):
        asyncio.run(_archive(members))
