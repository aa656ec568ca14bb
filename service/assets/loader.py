"""Getting a batch's assets: each distinct URL fetched once, concurrently (bounded), checked
and normalised on a thread, remembered across requests by URL for a bounded time and size; and
each distinct way of drawing them trial-decoded once (``render.trial``).

``attach`` turns validated items that ask for a logo or background image into items whose
render job names the assets by content hash, or into per-item messages: a failure is the
message of every item using that URL, and nothing else about the batch changes.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping

import msgspec

from ..items.types import InvalidItem, ValidItem
from ..lru import LRU
from ..metrics import Metrics
from ..render.encode import symbol_size
from ..render.fair import Flow
from ..render.layout import LayoutError, frame_box, plan_layout
from ..render.overlay import Overlay
from ..render.pool import RenderPool
from ..render.trial import TRIAL_PPM, content_free
from .decode import KINDS, Asset, AssetError, load_asset
from .fetch import Fetcher, FetchError

__all__ = ["AssetLoader", "Uploads"]

Uploads = Mapping[str, bytes]  # kind ("logo", "background") -> uploaded bytes
log = logging.getLogger("qrstudio.assets")
_FETCHES_AT_ONCE = 8
_DECODES_AT_ONCE = 2
MAX_URLS_PER_BATCH = 16  # the default: bounds a batch's fetching time (2 rounds of 5 s)
_FIELDS = {"logo": ("logo_url", "logo_file"), "background": ("bg_image_url", "bg_image_file")}
_TRIALS_KEPT = 20_000
_TRIAL_CHUNK = 16
_VERSION_BUMPS = 3


class AssetLoader:
    def __init__(
        self,
        fetcher: Fetcher,
        *,
        cache_bytes: int,
        ttl_s: float,
        max_urls: int = MAX_URLS_PER_BATCH,
        metrics: Metrics | None = None,
    ) -> None:
        self.fetcher = fetcher
        self.max_urls = max_urls
        self.cache_bytes = cache_bytes
        self.ttl_s = ttl_s
        # (kind, url) -> (expiry, asset): kept by bytes
        self._cache: LRU[tuple[str, str], tuple[float, Asset]] = LRU(
            cache_bytes, lambda entry: len(entry[1].data) + 200
        )
        self._inflight: dict[tuple[str, str], asyncio.Future[Asset]] = {}
        self._trials: LRU[tuple[object, ...], bool] = LRU(_TRIALS_KEPT)
        self._gate = asyncio.Semaphore(_FETCHES_AT_ONCE)
        # a 50-megapixel decode can take ~300 MB for a moment: two at a time per process
        self._decoding = asyncio.Semaphore(_DECODES_AT_ONCE)
        self._metrics = metrics

    # -- one asset -------------------------------------------------------------------------

    async def fetch(self, url: str, kind: str) -> Asset:
        """The checked, normalised asset at ``url``; AssetError with the client's message."""
        key = (kind, url)
        cached = self._cache.get(key)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        waiting = self._inflight.get(key)
        if waiting is not None:
            return await asyncio.shield(waiting)
        future: asyncio.Future[Asset] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            asset = await self._load(url, kind)
            future.set_result(asset)
            self._remember(key, asset)
            return asset
        except BaseException as exc:
            future.set_exception(exc if isinstance(exc, Exception) else AssetError("cancelled"))
            future.exception()
            raise
        finally:
            del self._inflight[key]

    async def _load(self, url: str, kind: str) -> Asset:
        spec = KINDS[kind]
        async with self._gate:
            try:
                data = await self.fetcher.fetch(url, spec.max_bytes, spec.what, spec.field)
            except FetchError as exc:
                self._failed("fetch")
                raise AssetError(str(exc)) from None
        try:
            async with self._decoding:
                return await asyncio.to_thread(load_asset, data, spec)
        except AssetError as exc:
            self._failed("decode")
            raise AssetError(f"{spec.field} {url} {exc}") from None

    async def upload(self, data: bytes, kind: str, field: str) -> Asset:
        try:
            async with self._decoding:
                return await asyncio.to_thread(load_asset, data, KINDS[kind])
        except AssetError as exc:
            self._failed("upload")
            raise AssetError(f"{field} {exc}") from None

    def _failed(self, stage: str) -> None:
        if self._metrics is not None:
            self._metrics.asset_failures.labels(stage).inc()

    def _remember(self, key: tuple[str, str], asset: Asset) -> None:
        self._cache.put(key, (time.monotonic() + self.ttl_s, asset))

    # -- a batch ---------------------------------------------------------------------------

    async def attach(
        self,
        items: dict[int, ValidItem],
        pool: RenderPool,
        uploads: Uploads | None = None,
        flow: Flow = ("", ""),
    ) -> tuple[dict[int, ValidItem], dict[int, InvalidItem]]:
        """``items`` (by request index) with their assets attached and trial-decoded; the
        items that cannot have them become messages."""
        wanted = dict.fromkeys(
            (kind, url) for item in items.values() for kind, url in item.wants if url is not None
        )
        keys = list(wanted)[: self.max_urls]
        results = await asyncio.gather(
            *(self.fetch(url, kind) for kind, url in keys), return_exceptions=True
        )
        found: dict[tuple[str, str | None], Asset | BaseException] = dict(zip(keys, results))
        for kind, data in (uploads or {}).items():
            field = "logo_file" if kind == "logo" else "bg_image_file"
            try:
                found[(kind, None)] = await self.upload(data, kind, field)
            except AssetError as exc:
                found[(kind, None)] = exc
        out: dict[int, ValidItem] = {}
        errors: dict[int, InvalidItem] = {}
        too_many = AssetError(
            f"A batch may use at most {self.max_urls} distinct logo and "
            "background URLs; split it or share the images."
        )
        for index, item in items.items():
            if not item.wants:
                out[index] = item
                continue
            assets: dict[str, Asset] = {}
            for kind, url in item.wants:
                got = found.get((kind, url), too_many)
                if isinstance(got, BaseException):
                    if not isinstance(got, Exception):
                        raise got
                    if not isinstance(got, AssetError):  # a defect: logged, never a 500
                        log.error("asset %s failed unexpectedly", url, exc_info=got)
                        got = AssetError(f"could not fetch {url}: unexpected error")
                    errors[index] = InvalidItem(str(got), _FIELDS[kind][url is None])
                    break
                assets[kind] = got
            else:
                out[index] = _with_assets(item, assets)
        failed = await self._trial(out, pool, flow)
        # error_correction auto may also choose the version: a slightly larger symbol puts
        # fewer of its codewords under the same logo (small versions are the tight case)
        for bump in range(1, _VERSION_BUMPS + 1):
            retry = {i: b for i in failed if (b := _bumped(out[i], bump)) is not None}
            if not retry:
                break
            still = set(await self._trial(retry, pool, flow))
            for index, item in retry.items():
                if index not in still:
                    out[index] = item
            failed = [i for i in failed if i not in retry or i in still]
        for index in failed:
            errors[index] = _unreadable(out.pop(index))
        return out, errors

    async def _trial(
        self, items: dict[int, ValidItem], pool: RenderPool, flow: Flow = ("", "")
    ) -> list[int]:
        """Indexes of the items whose trial render does not decode. How much a logo may hide
        depends on the content too (measured: at M, a 0.2 logo on version 3 reads for 6
        contents in 40), so every item is tried, unless the modules its logo hides could all
        be wrong and still be corrected (``trial.content_free``): then one trial per drawing
        stands for all its items (a batch of 5 000 items sharing one logo waits for one)."""
        keys: dict[int, tuple[object, ...]] = {}
        for index, item in items.items():
            job = item.job
            if job.overlay is None:
                continue
            keys[index] = (
                job.content,
                job.overlay,
                job.level,
                job.version,
                job.pattern,
                job.style,
                job.fg,
                job.bg,
                job.layout.offset // job.layout.ppm,
                min(job.layout.ppm, TRIAL_PPM),
                item.inverted,
            )
        # a drawing whose logo cannot defeat the error correction whatever the content is
        # tried once, with its first item (``trial.content_free``)
        stands: dict[int, int] = {}  # index -> the index whose trial stands for it
        firsts: dict[tuple[object, ...], int] = {}
        free: dict[tuple[object, ...], bool] = {}
        for index, key in keys.items():
            drawing = key[1:]
            if drawing not in free:
                free[drawing] = content_free(items[index].job)
            if free[drawing]:
                stands[index] = firsts.setdefault(drawing, index)
        for index, first in stands.items():
            if index != first:
                del keys[index]
        unknown = list(
            {key: index for index, key in keys.items() if key not in self._trials}.items()
        )
        futures = []
        for start in range(0, len(unknown), _TRIAL_CHUNK):
            chunk = unknown[start : start + _TRIAL_CHUNK]
            assets: dict[str, bytes] = {}
            for _, index in chunk:
                assets.update(items[index].assets or {})
            pairs = [(items[index].job, items[index].inverted) for _, index in chunk]
            futures.append(asyncio.wrap_future(pool.trials(pairs, assets, flow)))
        for start, verdicts in zip(
            range(0, len(unknown), _TRIAL_CHUNK), await asyncio.gather(*futures)
        ):
            for (key, _), ok in zip(unknown[start : start + _TRIAL_CHUNK], verdicts):
                self._trials.put(key, ok)
        failed = {index for index, key in keys.items() if not self._trials.get(key)}
        failed.update(index for index, first in stands.items() if first in failed)
        return sorted(failed)


def _with_assets(item: ValidItem, assets: dict[str, Asset]) -> ValidItem:
    logo, background = assets.get("logo"), assets.get("background")
    request = item.request
    overlay = Overlay(
        logo=logo.sha256 if logo else None,
        logo_ratio=request.logo_size_ratio,
        clear_zone=request.logo_clear_zone,
        background=background.sha256 if background else None,
        logo_size=(logo.width, logo.height) if logo else None,
    )
    job = msgspec.structs.replace(item.job, overlay=overlay)
    data = {a.sha256: a.data for a in assets.values()}
    return msgspec.structs.replace(item, job=job, assets=data)


def _bumped(item: ValidItem, bump: int) -> ValidItem | None:
    """The item ``bump`` versions larger, if its error correction is auto and it still fits
    its size at 2 px per module; else None."""
    request, job = item.request, item.job
    version = job.version + bump
    if request.error_correction != "auto" or version > 40:
        return None
    frame = frame_box(job.layout.pixels, request.frame_style, request.frame_label is not None)
    try:
        layout = plan_layout(
            request.size_inches, request.dpi, symbol_size(version), request.quiet_zone, frame
        )
    except LayoutError:
        return None
    return msgspec.structs.replace(
        item, job=msgspec.structs.replace(job, version=version, layout=layout)
    )


def _unreadable(item: ValidItem) -> InvalidItem:
    request, job = item.request, item.job
    assert job.overlay is not None
    if job.overlay.logo is not None:
        advice = f"lower logo_size_ratio (now {request.logo_size_ratio:g})"
        if job.level != "H":
            advice += " or use error_correction H"
        if job.overlay.background is not None:
            advice += ", or use a lighter background image"
        return InvalidItem(
            f"The logo makes this code unreadable: a trial render at error "
            f"correction {job.level} did not decode; {advice}.",
            "logo_size_ratio",
        )
    field = "bg_image_url" if item.request.bg_image_url else "bg_image_file"
    return InvalidItem(
        "The background image makes this code unreadable: a trial render did "
        "not decode; use a lighter, less busy image or a plain background.",
        field,
    )
