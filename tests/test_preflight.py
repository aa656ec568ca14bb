"""Before the first byte: each distinct drawing is rendered and read back once, its repair
(if any) applies to all its items, and the archive's size is estimated from real sizes."""

from __future__ import annotations

import httpx

from tests.readers import check_image, open_zip

BULK = "/api/v1/generate/bulk/"


def test_a_batch_its_own_sizes_would_cut_is_400_before_it_starts(make_server) -> None:
    """validate said valid for 5 000 star codes of 15 in at 600 dpi, and the real call then
    streamed and was cut at the ceiling. The lower bound cannot see it; the real sizes do."""
    server = make_server("embedded", zip_ceiling_bytes=400_000)
    account, key = server.account("agency")
    items = [
        {
            "data": f"https://example.com/big/{i}",
            "size_inches": 4,
            "pattern": "star",
            "background": "#FFFFFF",
        }
        for i in range(60)
    ]
    for path in ("/api/v1/validate/", BULK):
        r = httpx.post(
            server.url + path, json={"items": items}, timeout=120, headers={"X-Api-Key": key}
        )
        assert r.status_code == 400, r.text[:300]
        detail = r.json()["detail"]
        assert detail.startswith("This batch would produce about ") and "400000" in detail
        estimate = int(detail.split("about ")[1].split()[0])
        assert estimate > 400_000
    assert server.admin.usage(account) == 0
    # a tenth of it fits, and streams whole
    few = items[:6]
    r = httpx.post(server.url + BULK, json={"items": few}, timeout=120, headers={"X-Api-Key": key})
    assert r.status_code == 200, r.text[:300]
    archive, manifest = open_zip(r.content)
    assert sum(e["bytes"] for e in manifest["items"]) * 10 > 400_000  # 60 would have crossed
    for item, entry in zip(few, manifest["items"]):
        assert entry["verified"] is True and "repaired" not in entry
        check_image("png", archive.read(entry["filename"]), item["data"], 4, 300)


def test_a_drawing_repaired_before_the_stream_is_drawn_so_for_every_item(server) -> None:
    """A frame pattern at 1 px per module has no room for its shape (the audit's 10 px per
    module example reads as drawn since its geometry was fixed): every item drawn that way
    gets solid modules, and says so."""
    _, key = server.account("pro")
    frame = {
        "pattern": "frame",
        "size_inches": 0.5,
        "dpi": 72,
        "background": "#FFFFFF",
        "error_correction": "M",
    }
    items = [{"data": f"https://example.com/a{i}", **frame} for i in range(1, 5)]
    items.append({"data": "https://example.com/plain", "size_inches": 1.25})
    r = httpx.post(
        server.url + BULK, json={"items": items}, timeout=120, headers={"X-Api-Key": key}
    )
    assert r.status_code == 200, r.text[:300]
    archive, manifest = open_zip(r.content)
    entries = manifest["items"]
    assert all(e["verified"] is True for e in entries)
    assert [e.get("repaired") for e in entries[:4]] == ["solid modules"] * 4
    assert "repaired" not in entries[4]
    for item, entry in zip(items, entries):
        check_image(
            "png",
            archive.read(entry["filename"]),
            item["data"],
            item["size_inches"],
            item.get("dpi", 300),
        )
    single = httpx.post(
        server.url + "/api/v1/generate/", json=items[0], timeout=60, headers={"X-Api-Key": key}
    )
    assert single.status_code == 200 and single.headers["X-QR-Repaired"] == "solid modules"
    check_image("png", single.content, items[0]["data"], 0.5, 72)
