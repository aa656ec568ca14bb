"""Logo and background images go to the render worker processes once (``render.shelf``):
each image is written once however many chunks name it, a chunk carries only hashes, an image
stays while a chunk that names it is pending, and the workers' images read back."""

from __future__ import annotations

import hashlib
import pickle

import pytest

from service.render.encode import plan_version, symbol_size
from service.render.job import RenderJob
from service.render.layout import plan_layout
from service.render.overlay import Overlay
from service.render.pool import RenderPool
from service.render.shelf import Shelf, Shelved
from tests.assetserver import IMAGES
from tests.readers import check_image

LOGO, PHOTO = IMAGES["logo.png"], IMAGES["photo.jpg"]
LOGO_SHA, PHOTO_SHA = (hashlib.sha256(b).hexdigest() for b in (LOGO, PHOTO))
ASSETS = {LOGO_SHA: LOGO, PHOTO_SHA: PHOTO}


def _job(content: str, overlay: Overlay | None) -> RenderJob:
    version = plan_version(content, "H")
    return RenderJob(
        content=content,
        level="H",
        version=version,
        layout=plan_layout(1.5, 300, symbol_size(version), 4),
        pattern="rounded",
        fg=(0, 0, 0, 255),
        bg=(255, 255, 255, 255),
        format="png",
        size_inches=1.5,
        dpi=300,
        overlay=overlay,
    )


def test_an_image_is_written_once_and_a_chunk_carries_only_hashes(tmp_path) -> None:  # type: ignore[no-untyped-def]
    shelf = Shelf()
    try:
        lent = [shelf.lend(ASSETS, [LOGO_SHA, LOGO_SHA, PHOTO_SHA]) for _ in range(20)]
        assert shelf.writes == 2
        wire = pickle.dumps(lent[0])
        assert len(wire) < 400 and LOGO not in wire  # hashes, not the image
        back = pickle.loads(wire)
        assert isinstance(back, Shelved) and dict(back) == ASSETS
        with pytest.raises(KeyError):
            back["0" * 64]  # only what the chunk names
        for one in lent:
            shelf.release(one)
    finally:
        shelf.close()
    assert not shelf.root.exists()


def test_a_pinned_image_outlives_the_budget_and_goes_when_released() -> None:
    shelf = Shelf(budget=len(PHOTO) + 1)  # room for one image
    try:
        first = shelf.lend(ASSETS, [LOGO_SHA])
        second = shelf.lend(ASSETS, [PHOTO_SHA])
        assert (shelf.root / LOGO_SHA).exists() and (shelf.root / PHOTO_SHA).exists()
        shelf.release(first)  # over the budget and unpinned: removed
        assert not (shelf.root / LOGO_SHA).exists() and (shelf.root / PHOTO_SHA).exists()
        assert dict(second) == {PHOTO_SHA: PHOTO}
        shelf.release(second)
        assert (shelf.root / PHOTO_SHA).exists()  # within the budget: kept for the next batch
        shelf.lend(ASSETS, [PHOTO_SHA])
        assert shelf.writes == 2
    finally:
        shelf.close()


def test_worker_processes_render_from_the_shelf() -> None:
    pool = RenderPool(2, mode="process")
    try:
        assert pool.shelf is not None
        overlays = [Overlay(logo=LOGO_SHA), Overlay(background=PHOTO_SHA), None]
        jobs = [_job(f"https://example.com/shelf/{i:03d}", overlays[i % 3]) for i in range(12)]
        futures = [pool.submit(jobs[i : i + 3], 0, ASSETS) for i in range(0, 12, 3)]
        results = [r for f in futures for r in f.result(timeout=120)]
        assert pool.shelf.writes == 2  # four chunks, each image written once
        for job, result in zip(jobs, results):
            assert result.verified
            check_image("png", result.data, job.content, 1.5, 300)
        trial = pool.trials([(jobs[0], False), (jobs[1], False)], ASSETS).result(timeout=120)
        assert trial == [True, True] and pool.shelf.writes == 2
        assert pool.shelf._pins == {}  # every chunk done: nothing pinned
    finally:
        pool.shutdown()
    assert not pool.shelf.root.exists()
