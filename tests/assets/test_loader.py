"""The asset loader's trial decodes (``AssetLoader._trial``), with a real render pool: a
logo that the error correction repairs whatever the content is tried once per drawing; one
that does not is tried item by item, and what it refuses really does not read."""

from __future__ import annotations

import asyncio

import pytest

from service.assets.decode import KINDS, load_asset
from service.assets.fetch import Fetcher
from service.assets.loader import AssetLoader, _with_assets
from service.items.types import ValidItem
from service.items.validation import check_item
from service.limits.plans import PLANS
from service.render.pipeline import draw, reads_back, render
from service.render.pool import RenderPool
from service.render.trial import content_free
from service.schema import item_decoder
from tests.assetserver import IMAGES
from tests.readers import check_image

LOGO = load_asset(IMAGES["logo.webp"], KINDS["logo"])  # an opaque square: hides the most


@pytest.fixture(scope="module")
def pool():  # type: ignore[no-untyped-def]
    pool = RenderPool(2, mode="thread")
    yield pool
    pool.shutdown()


def _items(n: int, extra: str) -> dict[int, ValidItem]:
    out = {}
    for i in range(n):
        body = f'{{"data": "https://example.com/trial/{i:05d}", "logo_url": "http://x/l"{extra}}}'
        valid = check_item(item_decoder.decode(body.encode()), PLANS["agency"])
        out[i] = _with_assets(valid, {"logo": LOGO})
    return out


def _trial(items: dict[int, ValidItem], pool: RenderPool) -> tuple[list[int], int]:
    loader = AssetLoader(Fetcher(), cache_bytes=2**20, ttl_s=60)
    failed = asyncio.run(loader._trial(items, pool))
    return failed, len(loader._trials)


def test_a_logo_the_error_correction_always_repairs_is_tried_once(pool) -> None:  # type: ignore[no-untyped-def]
    items = _items(40, ', "size_inches": 2, "logo_size_ratio": 0.2')
    assert all(content_free(item.job) for item in items.values())
    failed, tried = _trial(items, pool)
    assert failed == [] and tried == 1
    for item in list(items.values())[::8]:  # and each item reads, by both decoders
        result = render(item.job, 0, item.assets or {})
        assert result.verified
        check_image("png", result.data, str(item.job.content), 2, 300)


def test_a_logo_that_may_defeat_it_is_tried_item_by_item(pool) -> None:  # type: ignore[no-untyped-def]
    extra = ', "size_inches": 1.5, "dpi": 200, "logo_size_ratio": 0.2, "error_correction": "M"'
    items = _items(12, extra)
    assert not any(content_free(item.job) for item in items.values())
    failed, tried = _trial(items, pool)
    assert tried == 12
    assert 0 < len(failed) < 12  # content decides (see test_logos)
    for index in failed:  # what was refused does not read at the item's own size either
        job, assets = items[index].job, items[index].assets or {}
        assert not reads_back(job, draw(job, 0, assets), assets)
