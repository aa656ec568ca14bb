"""Shrunk examples the fuzzers in this package found, each now an ordinary regression test
named after what it guards."""

from __future__ import annotations

import pytest
import requests

from tests.readers import check_image


def post(server, path: str, key: str, body: object) -> requests.Response:  # type: ignore[no-untyped-def]
    return requests.post(f"{server.url}/api/v1/{path}", json=body, headers={"X-Api-Key": key},
                         timeout=60)


@pytest.mark.parametrize("frame", ["box", "rounded", "banner-top", "banner-bottom"])
def test_a_frame_with_quiet_zone_zero_is_refused_not_rendered_unreadable(server, frame: str) -> None:  # type: ignore[no-untyped-def]
    """Hypothesis: a box frame with quiet_zone 0 rendered (200) a code whose frame line touched
    the finder patterns; zxing-cpp found no code. The dry run, the single render and bulk now
    refuse it on quiet_zone; quiet_zone 1 renders and reads back."""
    _, key = server.account("pro")
    item = {"data": "https://example.com/", "size_inches": 2, "dpi": 300, "quiet_zone": 0,
            "frame_style": frame, "background": "white"}
    for path in ("validate/", "generate/"):
        r = post(server, path, key, item)
        assert r.status_code == 400 and list(r.json()) == ["quiet_zone"], r.text
    r = post(server, "generate/bulk/", key, {"items": [{**item, "quiet_zone": 1}, item]})
    assert r.status_code == 422 and list(r.json()["errors"]) == ["1"], r.text
    r = post(server, "generate/", key, {**item, "quiet_zone": 1})
    assert r.status_code == 200, r.text
    check_image("png", r.content, "https://example.com/", 2, 300)
