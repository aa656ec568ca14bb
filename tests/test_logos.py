"""Logos and background images through the real endpoints: fetched from a local asset server
(allowed by QRSTUDIO_ASSET_ALLOWED_NETWORKS), composited, and every image decoded by zxing-cpp.
"""

from __future__ import annotations

import time
import uuid

import httpx
import pytest
import pyvips

from tests.assetserver import IMAGES
from tests.conftest import ASSETS_ALLOWED
from tests.readers import check_image, open_zip, rasterise_svg

BULK = "/api/v1/generate/bulk/"
GEN = "/api/v1/generate/"


@pytest.fixture
def live(backend: str, make_server):  # type: ignore[no-untyped-def]
    return make_server(backend, **ASSETS_ALLOWED)


def bulk(server, key: str, items: list[dict[str, object]], path: str = BULK) -> httpx.Response:
    return httpx.post(
        server.url + path, json={"items": items}, headers={"X-Api-Key": key}, timeout=120
    )


def _pixel(fmt: str, data: bytes, dpi: int, x: int, y: int) -> tuple[int, ...]:
    raster = data if fmt == "png" else rasterise_svg(data, dpi)
    image = pyvips.Image.new_from_buffer(raster, "")
    return tuple(int(v) for v in image(x, y))


def test_composited_renders_decode_to_their_exact_content(live, asset_server) -> None:
    account, key = live.account("pro")
    tag = uuid.uuid4().hex
    logo = asset_server.url(f"logo.png?{tag}")
    items: list[dict[str, object]] = []
    for pattern in ("rounded", "squares"):
        for fmt in ("png", "svg"):
            for ratio in (0.05, 0.12, 0.2, 0.24, 0.3):
                items.append(
                    {
                        "data": f"https://example.com/{pattern}/{fmt}/{ratio}",
                        "logo_url": logo,
                        "logo_size_ratio": ratio,
                        "format": fmt,
                        "pattern": pattern,
                        "size_inches": 2,
                        "dpi": 200,
                    }
                )
    for name in ("logo.jpg", "logo.webp", "logo.gif", "wide.png", "hop2"):
        items.append(
            {
                "data": f"https://example.com/{name}",
                "size_inches": 1.5,
                "logo_url": asset_server.url(f"{name}?{tag}"),
                "dpi": 300,
            }
        )
    photo = asset_server.url(f"photo.jpg?{tag}")
    for fmt in ("png", "svg"):
        items.append(
            {
                "data": f"https://example.com/bg/{fmt}",
                "bg_image_url": photo,
                "format": fmt,
                "size_inches": 2,
                "dpi": 150,
            }
        )
        items.append(
            {
                "data": f"https://example.com/bg+logo/{fmt}",
                "bg_image_url": photo,
                "logo_url": logo,
                "format": fmt,
                "size_inches": 2,
                "dpi": 150,
                "pattern": "squares",
                "background": "#FFF8E7",
                "color": "#1A237E",
            }
        )
    for fmt in ("png", "svg"):  # halftone draws over the image; styled patterns take logos
        items.append(
            {
                "data": f"https://example.com/halftone/{fmt}",
                "bg_image_url": photo,
                "pattern": "halftone",
                "format": fmt,
                "size_inches": 2,
                "dpi": 200,
            }
        )
        items.append(
            {
                "data": f"https://example.com/dot-logo/{fmt}",
                "logo_url": logo,
                "pattern": "dot",
                "eye_shape": "circle",
                "format": fmt,
                "frame_style": "banner-bottom",
                "frame_label": "Scan me",
                "size_inches": 2,
                "dpi": 200,
            }
        )
    for pattern in ("rounded", "squares"):  # large: the modules are drawn in several blocks
        items.append(
            {
                "data": f"https://example.com/large/{pattern}",
                "logo_url": logo,
                "pattern": pattern,
                "size_inches": 10,
                "dpi": 300,
            }
        )
    items.append(
        {
            "data": "https://example.com/no-clear",
            "logo_url": logo,
            "logo_clear_zone": False,
            "logo_size_ratio": 0.15,
            "size_inches": 2,
        }
    )
    r = bulk(live, key, items)
    assert r.status_code == 200, r.text[:500]
    archive, manifest = open_zip(r.content)
    assert manifest["count"] == len(items)
    for item, entry in zip(items, manifest["items"]):
        data = archive.read(entry["filename"])
        # zbar finds no code in the logo over a background image (a photo under a 60 % veil,
        # then the logo) that zxing-cpp and the service's read-back read exactly; it reads
        # every other composite here
        check_image(
            str(item.get("format", "png")),
            data,
            str(item["data"]),
            float(item["size_inches"]),
            int(item.get("dpi", 300)),  # type: ignore
            zbar=not ("logo_url" in item and "bg_image_url" in item),
        )
        assert entry["has_logo"] == ("logo_url" in item)
        assert entry["error_correction"] == "H"  # auto becomes H with a logo or background
    # the logo is really there: right of and below the centre is its red quadrant
    for item, entry in zip(items, manifest["items"]):
        if (
            item.get("logo_url") == logo
            and "frame_style" not in item
            and float(item.get("logo_size_ratio", 0.24)) >= 0.12
        ):  # type: ignore[arg-type]
            fmt, dpi = str(item.get("format", "png")), int(item.get("dpi", 300))  # type: ignore
            centre = round(float(item["size_inches"]) * dpi) // 2  # type: ignore[arg-type]
            off = max(2, round(float(item.get("logo_size_ratio", 0.24)) * centre / 3))  # type: ignore
            r_, g_, *_ = _pixel(
                fmt, archive.read(entry["filename"]), dpi, centre + off, centre + off
            )
            assert r_ > 150 and g_ < 100, (item, r_, g_)
    # one fetch per distinct URL for the whole batch
    assert asset_server.hits[f"/logo.png?{tag}"] == 1
    assert asset_server.hits[f"/photo.jpg?{tag}"] == 1
    assert live.admin.usage(account) == len(items)


HOSTILE: list[tuple[str, str, str]] = [  # (field, path, what the message says)
    ("logo_url", "404", "the server answered HTTP 404"),
    ("logo_url", "500", "the server answered HTTP 500"),
    ("logo_url", "slow-headers", "no complete answer within 5 s"),
    ("logo_url", "trickle", "no complete answer within 5 s"),
    ("logo_url", "lying-length", "could not fetch"),
    ("logo_url", "too-big", "larger than the 2 MB limit"),
    ("bg_image_url", "too-big", "larger than the 5 MB limit"),
    ("bg_image_url", "too-big-declared", "larger than the 5 MB limit"),
    ("logo_url", "gzip-bomb", "served with Content-Encoding gzip"),
    ("logo_url", "gzip-bomb-plain", "is not a PNG, JPEG, WebP or GIF image"),
    ("logo_url", "truncated.png", "could not be decoded as PNG"),
    ("logo_url", "huge.png", "is 60000 x 60000 px, over the limit of 50 megapixels"),
    ("logo_url", "vector.svg", "is SVG, which this service does not accept"),
    ("logo_url", "scan.tiff", "is TIFF, which this service does not accept"),
    ("logo_url", "doc.pdf", "is PDF, which this service does not accept"),
    ("bg_image_url", "bitmap.bmp", "is BMP, which this service does not accept"),
    ("logo_url", "text.png", "is not a PNG, JPEG, WebP or GIF image"),
    ("logo_url", "loop", "more than 3 redirects"),
    ("logo_url", "hop4", "more than 3 redirects"),
    (
        "logo_url",
        "to-metadata",
        "refusing to fetch 169.254.169.254: resolves to private/internal IP 169.254.169.254",
    ),
    (
        "logo_url",
        "to-internal-name",
        "refusing to fetch internal-host: resolves to private/internal IP 10.0.0.5",
    ),
]


@pytest.mark.parametrize("half", [0, 1])
def test_hostile_assets_are_per_item_422s_and_cost_nothing(live, asset_server, half) -> None:
    """In two batches: a batch may use at most 16 distinct asset URLs."""
    account, key = live.account("pro")
    tag = uuid.uuid4().hex
    cases = HOSTILE[half::2]
    items: list[dict[str, object]] = [{"data": "https://example.com/fine", "size_inches": 1}]
    for field, path, _ in cases:
        items.append(
            {
                "data": f"https://example.com/{path}",
                "size_inches": 1,
                field: asset_server.url(f"{path}?{tag}"),
            }
        )
    items.append({"data": "x", "size_inches": 1, "logo_url": "http://internal-host/l.png"})
    items.append({"data": "x", "size_inches": 1, "logo_url": "http://nowhere.test/l.png"})
    started = time.monotonic()
    r = bulk(live, key, items)
    elapsed = time.monotonic() - started
    assert r.status_code == 422, r.text[:300]
    body = r.json()
    assert body["rendered_before_failure"] == 1
    errors = body["errors"]
    assert sorted(errors, key=int) == [str(i) for i in range(1, len(items))]
    for i, (field, path, says) in enumerate(cases, start=1):
        assert says in errors[str(i)], (path, errors[str(i)])
        if "refusing" not in says and "could not fetch" not in errors[str(i)]:
            assert errors[str(i)].startswith(f"{field} {asset_server.url(path)}"), errors[str(i)]
    n = len(cases)
    assert errors[str(n + 1)] == (
        "refusing to fetch internal-host: resolves to private/internal IP 10.0.0.5"
    )
    assert errors[str(n + 2)] == "could not fetch nowhere.test: the name does not resolve"
    assert elapsed < 30  # the slow ones ran at once, each cut at 5 s
    assert live.admin.usage(account) == 0
    # nothing is stuck: the same server renders at once
    ok = bulk(
        live,
        key,
        [
            {
                "data": "https://example.com/after",
                "size_inches": 1,
                "logo_size_ratio": 0.15,
                "logo_url": asset_server.url(f"logo.png?{tag}"),
            }
        ],
    )
    assert ok.status_code == 200, ok.text
    archive, manifest = open_zip(ok.content)
    check_image("png", archive.read("qr-0001.png"), "https://example.com/after", 1, 300)


def test_the_dry_run_gives_the_same_asset_errors(live, asset_server) -> None:
    account, key = live.account("pro")
    items = [
        {"data": "a", "size_inches": 1, "logo_url": asset_server.url("scan.tiff")},
        {"data": "b", "size_inches": 1, "logo_url": asset_server.url("logo.png")},
    ]
    dry = bulk(live, key, items, "/api/v1/validate/")
    real = bulk(live, key, items)
    assert dry.status_code == real.status_code == 422
    assert dry.json() == real.json()
    assert live.admin.usage(account) == 0


def test_a_logo_too_large_for_the_level_is_refused_before_the_first_byte(
    live, asset_server
) -> None:
    account, key = live.account("pro")
    square = asset_server.url("logo.webp")  # opaque: hides everything under it
    items = [
        {
            "data": "https://example.com/too-much",
            "size_inches": 2,
            "logo_url": square,
            "logo_size_ratio": 0.3,
            "error_correction": "L",
        },
        {
            "data": "https://example.com/fine",
            "size_inches": 2,
            "logo_url": square,
            "logo_size_ratio": 0.24,
            "error_correction": "H",
        },
    ]
    r = bulk(live, key, items)
    assert r.status_code == 422
    assert r.json()["errors"] == {
        "0": (
            "The logo makes this code unreadable: a trial render at error correction L did not "
            "decode; lower logo_size_ratio (now 0.3) or use error_correction H."
        )
    }
    assert live.admin.usage(account) == 0
    single = httpx.post(live.url + GEN, json=items[0], headers={"X-Api-Key": key}, timeout=60)
    assert single.status_code == 400
    assert "did not decode" in single.json()["logo_size_ratio"][0]
    ok = httpx.post(live.url + GEN, json=items[1], headers={"X-Api-Key": key}, timeout=60)
    assert ok.status_code == 200
    check_image("png", ok.content, "https://example.com/fine", 2, 300)


def test_single_render_takes_uploads_through_the_same_checks(live) -> None:
    account, key = live.account("starter")
    fields = {
        "data": "https://example.com/upload",
        "size_inches": "2",
        "dpi": "150",
        "format": "svg",
        "logo_size_ratio": "0.25",
    }
    files = {
        "logo_file": ("whatever.bin", IMAGES["logo.png"], "application/octet-stream"),
        "bg_image_file": ("bg.jpg", IMAGES["photo.jpg"], "image/jpeg"),
    }
    r = httpx.post(live.url + GEN, data=fields, files=files, headers={"X-Api-Key": key}, timeout=60)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("image/svg+xml")
    assert r.headers["X-QR-Cache"] == "MISS"
    check_image("svg", r.content, "https://example.com/upload", 2, 150)
    again = httpx.post(
        live.url + GEN, data=fields, files=files, headers={"X-Api-Key": key}, timeout=60
    )
    assert again.headers["X-QR-Cache"] == "HIT" and again.content == r.content
    bad = httpx.post(
        live.url + GEN,
        data=fields,
        headers={"X-Api-Key": key},
        timeout=60,
        files={"logo_file": ("logo.png", IMAGES["scan.tiff"], "image/png")},
    )
    assert bad.status_code == 400
    assert bad.json() == {
        "logo_file": [
            "logo_file is TIFF, which this service does not accept (libvips' TIFF loader is not "
            "hardened for untrusted input); use PNG, JPEG, WebP or GIF"
        ]
    }
    big = httpx.post(
        live.url + GEN,
        data=fields,
        headers={"X-Api-Key": key},
        timeout=60,
        files={"logo_file": ("l.png", b"\x89PNG" + b"\0" * 2_100_000, "image/png")},
    )
    assert big.status_code == 400
    assert "larger than the 2 MB limit" in big.json()["logo_file"][0]
    assert live.admin.usage(account) == 2


def test_logos_are_a_plan_gate(live, asset_server) -> None:
    account, key = live.account("free")
    r = httpx.post(
        live.url + GEN,
        headers={"X-Api-Key": key},
        timeout=60,
        json={"data": "a", "size_inches": 2, "logo_url": asset_server.url("logo.png")},
    )
    assert r.status_code == 403
    assert r.json() == {
        "detail": "Plan 'free' doesn't include custom logos. Upgrade to Starter or higher."
    }
    files = {"logo_file": ("l.png", IMAGES["logo.png"], "image/png")}
    r = httpx.post(
        live.url + GEN,
        headers={"X-Api-Key": key},
        timeout=60,
        data={"data": "a", "size_inches": "2"},
        files=files,
    )
    assert r.status_code == 403
    assert live.admin.usage(account) == 0


def test_the_logo_bytes_are_part_of_the_cache_key(live, asset_server) -> None:
    _, key = live.account("pro")
    tag = uuid.uuid4().hex
    base = {"data": f"https://example.com/{tag}", "size_inches": 1.5}
    items = [
        {**base, "logo_url": asset_server.url(f"logo.png?{tag}")},
        {**base, "logo_url": asset_server.url(f"logo.png?{tag}-again")},  # same bytes
        {**base, "logo_url": asset_server.url(f"logo.webp?{tag}")},
        {**base},
    ]
    r = bulk(live, key, items)
    assert r.status_code == 200
    archive, manifest = open_zip(r.content)
    caches = [e["cache"] for e in manifest["items"]]
    assert caches == ["MISS", "HIT", "MISS", "MISS"]
    digests = [e["sha256"] for e in manifest["items"]]
    assert digests[0] == digests[1] and len(set(digests)) == 3
    for entry in manifest["items"]:
        check_image("png", archive.read(entry["filename"]), f"https://example.com/{tag}", 1.5, 300)
    second = bulk(live, key, items)  # the assets come from the fetcher's cache now
    assert [e["cache"] for e in open_zip(second.content)[1]["items"]] == ["HIT"] * 4
    assert asset_server.hits[f"/logo.png?{tag}"] == 1


def test_bad_urls_are_per_item_422s_never_500s(live, asset_server) -> None:
    account, key = live.account("pro")
    urls = [
        "http://exämple.invalid/l.png",
        "http://example.com:99999/x",
        "http://example.com:abc/x",
        "http://[::1/x",
        "http://a＃b/x",
        "http://assets.test/with space.png",
    ]
    items = [{"data": f"bad-{i}", "size_inches": 1, "logo_url": u} for i, u in enumerate(urls)]
    r = bulk(live, key, items)
    assert r.status_code == 422, r.text[:300]
    errors = r.json()["errors"]
    assert sorted(errors, key=int) == [str(i) for i in range(len(urls))]
    for message in errors.values():
        assert message.startswith(("refusing to fetch", "could not fetch")), message
    single = httpx.post(
        live.url + GEN,
        headers={"X-Api-Key": key},
        timeout=60,
        json={"data": "x", "size_inches": 1, "logo_url": urls[1]},
    )
    assert single.status_code == 400 and "not a valid URL" in single.json()["logo_url"][0]
    assert live.admin.usage(account) == 0


def test_a_batch_uses_at_most_16_distinct_asset_urls(live, asset_server) -> None:
    _, key = live.account("pro")
    tag = uuid.uuid4().hex
    items = [
        {
            "data": f"https://example.com/many/{i}",
            "size_inches": 1,
            "logo_size_ratio": 0.1,
            "logo_url": asset_server.url(f"logo.png?{tag}-{i}"),
        }
        for i in range(18)
    ]
    r = bulk(live, key, items)
    assert r.status_code == 422
    assert r.json()["errors"] == {
        str(i): "A batch may use at most 16 distinct logo and "
        "background URLs; split it or share the images."
        for i in (16, 17)
    }
    assert r.json()["rendered_before_failure"] == 16


def test_every_item_with_a_logo_is_trial_decoded(live, asset_server) -> None:
    """How much a logo may hide depends on the content: at M, an opaque logo of 0.2 on a
    version 3 code reads for some contents and not others. Each item is tried; what is
    accepted decodes."""
    account, key = live.account("pro")
    square = asset_server.url("logo.webp")
    items = [
        {
            "data": f"https://example.com/item/{i:05d}",
            "size_inches": 1.5,
            "dpi": 200,
            "logo_url": square,
            "logo_size_ratio": 0.2,
            "error_correction": "M",
        }
        for i in range(12)
    ]
    r = bulk(live, key, items)
    assert r.status_code == 422
    refused = {int(i) for i in r.json()["errors"]}
    assert 0 < len(refused) < len(items)
    kept = [item for i, item in enumerate(items) if i not in refused]
    ok = bulk(live, key, kept)
    assert ok.status_code == 200
    archive, manifest = open_zip(ok.content)
    for item, entry in zip(kept, manifest["items"]):
        check_image("png", archive.read(entry["filename"]), str(item["data"]), 1.5, 200)


def test_a_logo_and_a_background_from_the_same_file_are_different_images(
    live, asset_server
) -> None:
    _, key = live.account("pro")
    photo = asset_server.url(f"photo.jpg?{uuid.uuid4().hex}")
    items = [
        {"data": "same-file", "size_inches": 2, "logo_url": photo},
        {"data": "same-file", "size_inches": 2, "bg_image_url": photo},
        {"data": "same-file", "size_inches": 2, "bg_image_url": photo, "logo_url": photo},
    ]
    archive, manifest = open_zip(bulk(live, key, items).content)
    assert len({e["sha256"] for e in manifest["items"]}) == 3
    assert [e["cache"] for e in manifest["items"]] == ["MISS"] * 3
    for _item, entry in zip(items, manifest["items"]):
        check_image("png", archive.read(entry["filename"]), "same-file", 2, 300)


def test_a_replay_whose_logo_changed_is_a_409(backend, make_server, asset_server) -> None:
    server = make_server(backend, asset_cache_ttl_s=0, **ASSETS_ALLOWED)
    account, key = server.account("pro")
    body = {
        "items": [
            {
                "data": "flip",
                "size_inches": 1,
                "logo_url": asset_server.url(f"flip?{uuid.uuid4().hex}"),
            }
        ]
    }
    headers = {"X-Api-Key": key, "Idempotency-Key": uuid.uuid4().hex}
    first = httpx.post(server.url + BULK, json=body, headers=headers, timeout=60)
    assert first.status_code == 200
    check_image("png", open_zip(first.content)[0].read("qr-0001.png"), "flip", 1, 300)
    again = httpx.post(server.url + BULK, json=body, headers=headers, timeout=60)
    assert again.status_code == 409
    assert "changed since the first request" in again.json()["detail"]
    assert server.admin.usage(account) == 1


def test_auto_error_correction_grows_the_symbol_until_the_logo_reads(live, asset_server) -> None:
    """Short content makes a version 1 code, where a default logo hides too much of some
    contents: with error_correction auto the service takes a slightly larger version."""
    _, key = live.account("pro")
    items = [
        {"data": f"x{i}", "size_inches": 1.5, "dpi": 200, "logo_url": asset_server.url("logo.webp")}
        for i in range(30)
    ]
    r = bulk(live, key, items)
    assert r.status_code == 200, r.text[:300]
    archive, manifest = open_zip(r.content)
    versions = [e["version"] for e in manifest["items"]]
    assert min(versions) == 1 and max(versions) > 1
    for item, entry in zip(items, manifest["items"]):
        check_image("png", archive.read(entry["filename"]), str(item["data"]), 1.5, 200)


def test_a_logo_that_reads_at_full_size_is_no_longer_refused(live, asset_server) -> None:
    """The audit's case: an RGBA logo at ratio 0.3, no clear zone, EC M, a 300-character URL,
    2-5 in. The trial rendered it at 6 px per module or less, where zxing-cpp fails; the full
    image reads. Trials now read at the scale every image is read back at (8)."""
    account, key = live.account("pro")
    tag = uuid.uuid4().hex[:8]
    url = f"https://example.com/{tag}/" + "x" * (300 - 29)
    items = [
        {
            "data": url,
            "size_inches": size,
            "logo_url": asset_server.url(f"logo.png?{tag}"),
            "logo_size_ratio": 0.3,
            "logo_clear_zone": False,
            "error_correction": "M",
            "background": "#FFFFFF",
        }
        for size in (2, 3, 5)
    ]
    r = bulk(live, key, items)
    assert r.status_code == 200, r.text[:400]
    archive, manifest = open_zip(r.content)
    for item, entry in zip(items, manifest["items"]):
        assert entry["verified"] is True and entry["has_logo"] is True
        check_image("png", archive.read(entry["filename"]), url, float(item["size_inches"]), 300)
    assert live.admin.usage(account) == len(items)
