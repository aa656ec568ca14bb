"""The service behind nginx (deploy/nginx.conf), as an operator deploys it."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port
from tests.readers import check_image, open_zip
from tests.test_operations import _metric

CONF = Path(__file__).resolve().parent.parent / "deploy" / "nginx.conf"


@pytest.fixture
def gateway(make_server, tmp_path):  # type: ignore[no-untyped-def]
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    assert Path(nginx).exists(), "nginx is installed by .ci/run (Debian's nginx)"
    upstream = make_server("embedded")
    port = free_port()
    text = (
        CONF.read_text()
        .replace("@RUNDIR@", str(tmp_path))
        .replace("@UPSTREAM_PORT@", str(upstream.port))
        .replace("@LISTEN_PORT@", str(port))
    )
    conf = tmp_path / "nginx.conf"
    conf.write_text(text)
    proc = subprocess.Popen(
        [nginx, "-c", str(conf), "-p", str(tmp_path), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            if httpx.get(url + "/api/health/").status_code == 200:
                break
        except httpx.TransportError:
            pass
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        assert time.monotonic() < deadline
        time.sleep(0.1)
    yield upstream, url
    proc.terminate()
    proc.wait(10)


def test_bulk_streams_through_nginx_unbuffered(gateway) -> None:
    upstream, url = gateway
    account, key = upstream.account("pro")
    items = [{"data": f"https://example.com/gw/{i}", "size_inches": 3} for i in range(1000)]
    rendered = lambda: _metric(
        httpx.get(upstream.url + "/metrics").text, "qrstudio_items_rendered_total"
    )
    before = rendered()
    at_first: float | None = None
    body = bytearray()
    with httpx.stream(
        "POST",
        url + "/api/v1/generate/bulk/",
        json={"items": items},
        headers={"X-Api-Key": key, "X-Request-Id": "gw-trace-1"},
        timeout=120,
    ) as r:
        assert r.status_code == 200
        assert r.headers["X-Request-Id"] == "gw-trace-1"
        assert r.headers["Content-Disposition"] == 'attachment; filename="qrstudio-bulk-1000.zip"'
        for chunk in r.iter_raw():
            if at_first is None:
                at_first = rendered() - before
            body += chunk
    # the first bytes came through nginx while most of the batch was still to render (the
    # upstream's own count, not a clock: a timed ratio failed on a loaded machine, 1.06 s of
    # 2.06; ~31 of 1000 had rendered)
    assert at_first is not None and at_first < len(items) / 2, at_first
    assert rendered() - before == len(items)
    archive, manifest = open_zip(bytes(body))
    assert manifest["count"] == 1000
    for i, entry in enumerate(manifest["items"]):
        check_image(
            "png",
            archive.read(entry["filename"]),
            f"https://example.com/gw/{i}",
            3,
            300,
            read_side=450,
        )
    assert upstream.admin.usage(account) == 1000


def test_gateway_makes_a_request_id_and_passes_errors_through(gateway) -> None:
    upstream, url = gateway
    r = httpx.post(url + "/api/v1/generate/bulk/", json={"items": []})
    assert r.status_code == 401 and r.json() == {"detail": "Missing or invalid X-Api-Key."}
    assert re.fullmatch(r"[0-9a-f]{32}", r.headers["X-Request-Id"])  # nginx's $request_id
    _, key = upstream.account("starter")
    r = httpx.post(
        url + "/api/v1/generate/bulk/",
        json={"items": [{"size_inches": 99}]},
        headers={"X-Api-Key": key},
    )
    assert r.status_code == 422 and r.json()["rendered_before_failure"] == 0
