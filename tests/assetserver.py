"""A local asset server for the logo and background tests: good images and hostile answers.

It listens on 127.0.0.1 (allowed for the service under test by QRSTUDIO_ASSET_ALLOWED_NETWORKS)
and is reached by the name ``assets.test``, which the tests' resolver maps to it.
"""

from __future__ import annotations

import gzip
import socket
import struct
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pyvips

__all__ = ["IMAGES", "AssetServer", "TestResolver"]


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _srgb(image: pyvips.Image) -> pyvips.Image:
    return image.copy(interpretation="srgb")


def _logo_png() -> bytes:
    """A two-colour mark with a transparent surround (alpha matters)."""
    disc = pyvips.Image.xyz(240, 240) - 120
    radius = (disc[0] ** 2 + disc[1] ** 2) ** 0.5
    alpha = (radius < 110).ifthenelse(255, 0)
    red = (disc[0] > 0).ifthenelse(220, 30)
    image = red.bandjoin([(disc[1] > 0).ifthenelse(40, 90), 160, alpha]).cast("uchar")
    return bytes(_srgb(image).pngsave_buffer())


def _photo(width: int, height: int) -> pyvips.Image:
    """A photo-like background: smooth colour gradients plus noise, fully opaque."""
    xyz = pyvips.Image.xyz(width, height)
    r = xyz[0] * (255 / width)
    g = xyz[1] * (255 / height)
    b = (xyz[0] + xyz[1]) * (127 / (width + height)) + 64
    noise = pyvips.Image.gaussnoise(width, height, sigma=18, mean=0)
    return _srgb((r + noise).bandjoin([g + noise, b + noise]).cast("uchar"))


def _huge_png_header() -> bytes:
    ihdr = struct.pack(">IIBBBBB", 60_000, 60_000, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", ihdr)
        + _chunk(b"IDAT", zlib.compress(b"\x00" * 4000))
        + _chunk(b"IEND", b"")
    )


def _images() -> dict[str, bytes]:
    logo = _logo_png()
    square = _srgb(pyvips.Image.black(200, 200, bands=3) + [20, 40, 160]).cast("uchar")
    return {
        "logo.png": logo,
        "logo.jpg": bytes(_photo(300, 200).jpegsave_buffer(Q=85)),
        "logo.webp": bytes(square.webpsave_buffer(Q=80)),
        "logo.gif": bytes(square.gifsave_buffer()),
        "wide.png": bytes(
            _srgb(
                (pyvips.Image.black(400, 100, bands=3) + [200, 30, 30]).cast("uchar")
            ).pngsave_buffer()
        ),
        "photo.jpg": bytes(_photo(1600, 1200).jpegsave_buffer(Q=85)),
        "truncated.png": logo[: len(logo) // 2],
        "huge.png": _huge_png_header(),
        "vector.svg": b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" '
        b'width="10" height="10"><rect width="10" height="10"/></svg>',
        "scan.tiff": bytes(square.tiffsave_buffer()),
        "doc.pdf": b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n",
        "bitmap.bmp": b"BM" + b"\x00" * 60,
        "text.png": b"this is not an image at all, whatever its name says",
    }


IMAGES = _images()
_GZIP_BOMB = gzip.compress(b"\x00" * 20_000_000, 9)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass

    def _send(
        self,
        status: int,
        body: bytes,
        ctype: str = "image/png",
        headers: dict[str, str] | None = None,
        length: int | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        server: AssetServer = self.server.owner  # type: ignore[attr-defined]
        server.hits[self.path] = server.hits.get(self.path, 0) + 1
        path = self.path.lstrip("/")
        name = path.split("?", 1)[0]
        if name in IMAGES:  # every image is served as image/png: the type is judged by bytes
            self._send(200, IMAGES[name])
        elif name == "flip":  # a different image on every request
            self._send(200, IMAGES["logo.png" if server.hits[self.path] % 2 else "logo.webp"])
        elif name == "404":
            self._send(404, b"not here", "text/plain")
        elif name == "500":
            self._send(500, b"oops", "text/plain")
        elif name == "slow-headers":
            time.sleep(7)
            self._send(200, IMAGES["logo.png"])
        elif name == "trickle":
            body = IMAGES["logo.png"]
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            for i in range(0, 70):
                self.wfile.write(body[i : i + 1])
                self.wfile.flush()
                time.sleep(0.1)
            self.wfile.write(body[70:])
        elif name == "lying-length":  # claims more than it sends, then hangs up
            self._send(200, IMAGES["logo.png"][:300], length=50_000)
            self.close_connection = True
        elif name == "too-big":  # no Content-Length: only counting while reading catches it
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Connection", "close")
            self.end_headers()
            try:
                self.wfile.write(IMAGES["photo.jpg"][:100])
                for _ in range(7):
                    self.wfile.write(b"\x00" * 1_000_000)
            except OSError:
                pass
            self.close_connection = True
        elif name == "too-big-declared":
            self._send(200, b"", length=6_000_000)
            self.close_connection = True
        elif name == "gzip-bomb":
            self._send(200, _GZIP_BOMB, headers={"Content-Encoding": "gzip"})
        elif name == "gzip-bomb-plain":
            self._send(200, _GZIP_BOMB)
        elif name == "loop":
            self._send(302, b"", headers={"Location": "/loop"})
        elif name.startswith("hop"):  # hop3 -> hop2 -> hop1 -> hop0 -> the logo
            n = int(name[3:])
            target = "/logo.png" if n == 0 else f"/hop{n - 1}"
            self._send(302, b"", headers={"Location": target})
        elif name == "to-metadata":
            self._send(
                302, b"", headers={"Location": "http://169.254.169.254/latest/meta-data/iam/"}
            )
        elif name == "to-internal-name":
            self._send(301, b"", headers={"Location": "http://internal-host/logo.png"})
        else:
            self._send(404, b"", "text/plain")


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        pass  # clients that hang up on hostile answers are the point of these tests


class AssetServer:
    def __init__(self) -> None:
        self.httpd = _Server(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.owner = self  # type: ignore[attr-defined]
        self.port = self.httpd.server_address[1]
        self.hits: dict[str, int] = {}
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://assets.test:{self.port}/{path.lstrip('/')}"

    def stop(self) -> None:
        self.httpd.shutdown()


class TestResolver:
    """Name resolution for the tests, without touching the machine: ``assets.test`` is the
    local asset server, ``internal-host`` a private address, ``rebind.test`` a name with one
    public and one private address; any other name does not resolve."""

    NAMES = {
        "assets.test": ["127.0.0.1"],
        "internal-host": ["10.0.0.5"],
        "metadata.test": ["169.254.169.254"],
        "rebind.test": ["93.184.216.34", "192.168.0.10"],
        "v6-internal.test": ["fd00::1"],
        "mapped.test": ["::ffff:10.1.2.3"],
    }

    async def resolve(self, host: str, port: int) -> list[str]:
        found = self.NAMES.get(host.lower().rstrip("."))
        if found is None:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return list(found)
