"""POST /api/v1/generate/bulk/: the 200 path, against the real app, on both stores."""

from __future__ import annotations

import hashlib
import re

import httpx
import pytest
import requests

from tests.readers import check_image, open_zip

# (item, the exact content its code must carry)
EVERY_TYPE: list[tuple[dict[str, object], str | bytes]] = [
    ({"data": "https://example.com/1", "size_inches": 3}, "https://example.com/1"),
    (
        {"data_type": "text", "data": "Grüße aus Köln", "size_inches": 2, "format": "svg"},
        "Grüße aus Köln",
    ),
    (
        {
            "data_type": "vcard",
            "payload": {"name": "Alice", "phone": "+15145550001"},
            "size_inches": 2,
        },
        "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Alice\r\nFN:Alice\r\nTEL:+15145550001\r\nEND:VCARD\r\n",
    ),
    (
        {
            "data_type": "vcard",
            "payload": {
                "name": "Bob Stone",
                "org": "ACME, Inc.",
                "email": "bob@example.com",
                "url": "https://acme.test",
            },
            "size_inches": 2.5,
            "format": "svg",
            "pattern": "squares",
        },
        "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Stone;Bob\r\nFN:Bob Stone\r\nORG:ACME\\, Inc.\r\n"
        "EMAIL:bob@example.com\r\nURL:https://acme.test\r\nEND:VCARD\r\n",
    ),
    (
        {
            "data_type": "wifi",
            "payload": {"ssid": "Cafe;Net", "password": "s3cr:et"},
            "size_inches": 1.5,
            "dpi": 200,
        },
        "WIFI:T:WPA;S:Cafe\\;Net;P:s3cr\\:et;;",
    ),
    (
        {
            "data_type": "wifi",
            "payload": {"ssid": "Guest", "security": "nopass", "hidden": True},
            "size_inches": 1,
            "dpi": 300,
            "pattern": "squares",
        },
        "WIFI:T:nopass;S:Guest;H:true;;",
    ),
    (
        {
            "data_type": "email",
            "payload": {"to": "hello@example.com", "subject": "Hi there", "body": "A&B"},
            "size_inches": 2,
        },
        "mailto:hello@example.com?subject=Hi%20there&body=A%26B",
    ),
    (
        {
            "data_type": "sms",
            "payload": {"number": "+1 514 555 0001", "message": "See you"},
            "size_inches": 2,
            "format": "svg",
        },
        "SMSTO:+15145550001:See you",
    ),
    (
        {"data_type": "geo", "payload": {"lat": 45.5017, "lng": -73.5673}, "size_inches": 2},
        "geo:45.5017,-73.5673",
    ),
    (
        {
            "data_type": "mecard",
            "payload": {"name": "Alice", "phone": "+15145550001"},
            "size_inches": 2,
        },
        "MECARD:N:Alice;TEL:+15145550001;;",
    ),
    (
        {
            "data_type": "phone",
            "payload": {"number": "+15145550001"},
            "size_inches": 1,
            "format": "svg",
        },
        "tel:+15145550001",
    ),
    (
        {
            "data_type": "epc",
            "payload": {
                "name": "Red Cross",
                "iban": "BE72 0000 0000 1616",
                "amount": 10.5,
                "text": "Donation",
            },
            "size_inches": 2,
        },
        b"BCD\n002\n2\nSCT\n\nRed Cross\nBE72000000001616\nEUR10.5\n\n\nDonation",
    ),
    (
        {
            "data_type": "event",
            "payload": {
                "summary": "Launch, party",
                "start": "2026-12-01T18:00:00+01:00",
                "end": "2026-12-01T20:00:00+01:00",
                "location": "Montréal",
            },
            "size_inches": 2.5,
        },
        "BEGIN:VEVENT\r\nSUMMARY:Launch\\, party\r\nDTSTART:20261201T170000Z\r\n"
        "DTEND:20261201T190000Z\r\nLOCATION:Montréal\r\nEND:VEVENT",
    ),
    (
        {
            "data": "https://example.com/hi-res",
            "size_inches": 4,
            "dpi": 600,
            "error_correction": "H",
            "quiet_zone": 2,
            "color": "#1A237E",
            "background": "#FFFFFF",
        },
        "https://example.com/hi-res",
    ),
    (
        {
            "data": "https://example.com/alpha",
            "size_inches": 1.2,
            "dpi": 250,
            "color": "#00000099",
            "background": "transparent",
            "quiet_zone": 0,
            "format": "svg",
        },
        "https://example.com/alpha",
    ),
]


def _post(server, key: str, items: list[dict[str, object]], **headers: str) -> httpx.Response:
    return httpx.post(
        f"{server.url}/api/v1/generate/bulk/",
        json={"items": items},
        headers={"X-Api-Key": key, **headers},
        timeout=120,
    )


def test_seed_python_client_example(server) -> None:
    """bulk-api.md's Python example, unchanged but for the host and the key."""
    _, key = server.account("starter")
    api = server.url
    # --- the example, as published ---
    items = [{"data": f"https://yourbrand.com/c/{i:04d}", "size_inches": 3} for i in range(50)]
    r = requests.post(
        f"{api}/api/v1/generate/bulk/",
        headers={"X-Api-Key": key, "Content-Type": "application/json"},
        json={"items": items},
        timeout=120,
    )
    if r.status_code == 422:
        print("Errors:", r.json())
    else:
        r.raise_for_status()
        content = r.content
    # --- what it must have received ---
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/zip"
    assert r.headers["Content-Disposition"] == 'attachment; filename="qrstudio-bulk-50.zip"'
    assert r.headers["X-QR-Plan"] == "starter"
    assert r.headers["X-QR-Quota-Remaining"] == "450"
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{26}", r.headers["X-Request-Id"])
    archive, manifest = open_zip(content)
    names = [f"qr-{i:04d}.png" for i in range(1, 51)] + ["manifest.json"]
    assert archive.namelist() == names
    info = archive.getinfo("manifest.json")
    assert info.compress_type == 0  # stored
    assert manifest["count"] == 50 and manifest["plan"] == "starter"
    for i, entry in enumerate(manifest["items"]):
        data = archive.read(entry["filename"])
        assert entry == {
            "index": i,
            "filename": f"qr-{i + 1:04d}.png",
            "data_type": "url",
            "format": "png",
            "size_inches": 3,
            "dpi": 300,
            "bytes": len(data),
            "cache": "MISS",
            "duration_ms": entry["duration_ms"],
            "has_logo": False,
            "sha256": hashlib.sha256(data).hexdigest(),
            "error_correction": "M",
            "version": entry["version"],
            "pixels": 900,
            "inverted": False,
            "verified": True,
        }
        assert isinstance(entry["duration_ms"], int) and entry["duration_ms"] >= 0
        check_image("png", data, f"https://yourbrand.com/c/{i:04d}", 3, 300)


def test_every_data_type_and_format_scans_to_its_exact_content(server) -> None:
    account, key = server.account("pro")
    items = [item for item, _ in EVERY_TYPE]
    r = _post(server, key, items)
    assert r.status_code == 200, r.text
    archive, manifest = open_zip(r.content)
    assert manifest["count"] == len(items)
    for i, ((item, expected), entry) in enumerate(zip(EVERY_TYPE, manifest["items"])):
        fmt = str(item.get("format", "png"))
        assert entry["filename"] == f"qr-{i + 1:04d}.{fmt}"
        assert entry["data_type"] == item.get("data_type", "url")
        assert entry["dpi"] == item.get("dpi", 300)
        data = archive.read(entry["filename"])
        assert entry["bytes"] == len(data)
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
        check_image(fmt, data, expected, float(item["size_inches"]), int(item.get("dpi", 300)))
    assert server.admin.usage(account) == len(items)


def test_quota_remaining_goes_down_by_the_batch_size(server) -> None:
    account, key = server.account("starter")
    remaining = []
    for n in (3, 7):
        r = _post(server, key, [{"data": f"x{i}", "size_inches": 1} for i in range(n)])
        assert r.status_code == 200
        remaining.append(int(r.headers["X-QR-Quota-Remaining"]))
    assert remaining == [497, 490]
    assert server.admin.usage(account) == 10


def test_overage_plan_past_its_quota_still_renders_and_reports_zero_remaining(server) -> None:
    account, key = server.account("starter", monthly_quota=4)
    r = _post(server, key, [{"data": f"x{i}", "size_inches": 1} for i in range(6)])
    assert r.status_code == 200
    assert r.headers["X-QR-Quota-Remaining"] == "0"
    assert server.admin.usage(account) == 6


def test_gateway_request_id_is_kept_and_a_bad_one_replaced(server) -> None:
    _, key = server.account("starter")
    item = [{"data": "a", "size_inches": 1}]
    r = _post(server, key, item, **{"X-Request-Id": "gw-123.abc_DEF"})
    assert r.headers["X-Request-Id"] == "gw-123.abc_DEF"
    r = _post(server, key, item, **{"X-Request-Id": "bad id; with spaces"})
    assert re.fullmatch(r"[0-9A-Z]{26}", r.headers["X-Request-Id"])
    r = httpx.post(f"{server.url}/api/v1/generate/bulk/", json={}, headers={"X-Request-Id": "e-1"})
    assert r.status_code == 401 and r.headers["X-Request-Id"] == "e-1"


def test_trailing_slash_is_optional(server) -> None:
    _, key = server.account("starter")
    r = httpx.post(
        f"{server.url}/api/v1/generate/bulk",
        json={"items": [{"data": "a", "size_inches": 1}]},
        headers={"X-Api-Key": key},
    )
    assert r.status_code == 200
    archive, _ = open_zip(r.content)
    check_image("png", archive.read("qr-0001.png"), "a", 1, 300)


@pytest.mark.parametrize("pattern", ["rounded", "squares"])
@pytest.mark.parametrize("fmt", ["png", "svg"])
def test_inverted_codes_are_allowed_and_marked(server, pattern: str, fmt: str) -> None:
    _, key = server.account("starter")
    items = [
        {
            "data": "light on dark",
            "size_inches": 1.5,
            "color": "#FFFFFF",
            "background": "#101010",
            "pattern": pattern,
            "format": fmt,
        },
        {
            "data": "white on nothing",
            "size_inches": 1.5,
            "color": "white",
            "pattern": pattern,
            "format": fmt,
        },
    ]
    r = _post(server, key, items)
    assert r.status_code == 200, r.text
    archive, manifest = open_zip(r.content)
    for item, entry in zip(items, manifest["items"]):
        assert entry["inverted"] is True
        check_image(
            fmt, archive.read(entry["filename"]), str(item["data"]), 1.5, 300, inverted=True
        )


def test_seed_node_client_example(server, tmp_path) -> None:
    """bulk-api.md's Node.js example, unchanged but for the host and the key."""
    import shutil
    import subprocess
    import zipfile

    node = shutil.which("node")
    assert node, "node is part of this machine's image; the Node.js client example needs it"
    _, key = server.account("starter")
    script = tmp_path / "client.mjs"
    script.write_text(f"""
import fs from "node:fs";

const items = Array.from({{ length: 50 }}, (_, i) => ({{
  data: `https://yourbrand.com/c/${{String(i).padStart(4, "0")}}`,
  size_inches: 3,
}}));
const r = await fetch("{server.url}/api/v1/generate/bulk/", {{
  method: "POST",
  headers: {{ "X-Api-Key": process.env.QRSTUDIO_API_KEY, "Content-Type": "application/json" }},
  body: JSON.stringify({{ items }}),
}});
if (r.status === 422) console.error("Errors:", await r.json());
else if (!r.ok) throw new Error(`HTTP ${{r.status}}`);
else fs.writeFileSync("batch.zip", Buffer.from(await r.arrayBuffer()));
""")
    done = subprocess.run(
        [node, str(script)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={"QRSTUDIO_API_KEY": key, "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
    archive, manifest = open_zip((tmp_path / "batch.zip").read_bytes())
    assert isinstance(archive, zipfile.ZipFile) and manifest["count"] == 50
    for i in range(50):
        check_image(
            "png", archive.read(f"qr-{i + 1:04d}.png"), f"https://yourbrand.com/c/{i:04d}", 3, 300
        )
