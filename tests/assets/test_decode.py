"""Safe decoding: the type from the bytes, the size from the header, normalised output."""

from __future__ import annotations

import pytest
import pyvips

from service.assets.decode import KINDS, AssetError, load_asset, sniff
from tests.assetserver import IMAGES

LOGO = KINDS["logo"]


@pytest.mark.parametrize("name", ["logo.png", "logo.jpg", "logo.webp", "logo.gif"])
def test_accepted_formats_normalise_to_rgba_png(name: str) -> None:
    asset = load_asset(IMAGES[name], LOGO)
    image = pyvips.Image.new_from_buffer(asset.data, "")
    assert asset.data.startswith(b"\x89PNG")
    assert (image.bands, image.format, image.interpretation) == (4, "uchar", "srgb")
    assert (image.width, image.height) == (asset.width, asset.height)


def test_a_large_logo_is_downscaled_and_keeps_its_aspect() -> None:
    big = pyvips.Image.black(3000, 1500, bands=3).copy(interpretation="srgb")
    asset = load_asset(bytes(big.cast("uchar").jpegsave_buffer()), LOGO)
    assert (asset.width, asset.height) == (1024, 512)


def test_transparency_survives() -> None:
    image = pyvips.Image.new_from_buffer(load_asset(IMAGES["logo.png"], LOGO).data, "")
    assert image[3].min() == 0 and image[3].max() == 255


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("scan.tiff", "is TIFF, which this service does not accept"),
        ("bitmap.bmp", "is BMP, which this service does not accept"),
        ("doc.pdf", "is PDF, which this service does not accept"),
        ("vector.svg", "is SVG, which this service does not accept"),
        ("text.png", "is not a PNG, JPEG, WebP or GIF image"),
        ("huge.png", "is 60000 x 60000 px, over the limit of 50 megapixels"),
        ("truncated.png", "could not be decoded as PNG"),
    ],
)
def test_refusals_say_why(name: str, says: str) -> None:
    with pytest.raises(AssetError, match=says):
        load_asset(IMAGES[name], LOGO)


def test_size_limits_per_kind() -> None:
    with pytest.raises(AssetError, match="larger than the 2 MB limit for a logo"):
        load_asset(b"\x89PNG\r\n\x1a\n" + b"\x00" * 2_000_000, LOGO)
    assert sniff(IMAGES["photo.jpg"]) == "jpeg"


def test_only_the_four_loaders_can_run_once_hardened() -> None:
    load_asset(IMAGES["logo.png"], LOGO)  # hardens this process
    with pytest.raises(pyvips.Error):
        pyvips.Image.new_from_buffer(IMAGES["scan.tiff"], "")


@pytest.mark.parametrize("width,height", [(1, 2048), (2048, 1), (300, 20)])
def test_thin_images_are_refused(width: int, height: int) -> None:
    thin = pyvips.Image.black(width, height, bands=3).copy(interpretation="srgb")
    with pytest.raises(AssetError, match="more than 10 times longer than it is wide"):
        load_asset(bytes(thin.cast("uchar").pngsave_buffer()), KINDS["background"])


def test_a_background_keeps_its_centre_square_and_an_opaque_one_is_a_jpeg() -> None:
    asset = load_asset(IMAGES["photo.jpg"], KINDS["background"])
    assert (asset.width, asset.height) == (1200, 1200)
    assert asset.data.startswith(b"\xff\xd8")
    assert asset.sha256 != load_asset(IMAGES["photo.jpg"], LOGO).sha256


_RACE = """
import threading, sys
sys.path.insert(0, {root!r})
from service.assets.decode import KINDS, load_asset
from tests.assetserver import IMAGES
data = IMAGES["logo.jpg"]
start = threading.Barrier(8)
errors = []
def decode():
    start.wait()
    try:
        load_asset(data, KINDS["logo"])
    except Exception as exc:
        errors.append(repr(exc))
threads = [threading.Thread(target=decode) for _ in range(8)]
for t in threads: t.start()
for t in threads: t.join()
print("\\n".join(errors))
"""


def test_the_first_decodes_of_a_process_race_no_loader_block() -> None:
    """harden() runs on a process's first decode; decodes starting at once on several threads
    must never see the loaders blocked while another thread is still unblocking them."""
    import subprocess
    import sys
    from pathlib import Path

    root = str(Path(__file__).resolve().parents[2])
    for _ in range(6):
        out = subprocess.run(
            [sys.executable, "-c", _RACE.format(root=root)],
            check=True,
            capture_output=True,
            text=True,
            timeout=60,
        ).stdout
        assert out.strip() == ""
