"""POST /api/v1/validate/ answers as the real call would, and spends nothing."""

from __future__ import annotations

import httpx

from tests.readers import check_image, open_zip

BULK_BODIES: list[object] = [
    {"items": [{"data": "a", "size_inches": 1}]},
    {"items": [{"data": "a", "size_inches": 1}] * 51},
    {"items": []},
    {"items": [{"data": "a", "size_inches": 9}, {"data": "a", "size_inches": 1, "color": "x"}]},
    {
        "items": [
            {
                "data_type": "dynamic",
                "size_inches": 1,
                "payload": {"name": "n", "destination_url": "https://e.co"},
            }
        ]
        * 11
    },
    {"items": [{"data": "a", "size_inches": 1}] * 41},  # over this account's quota
    {"items": "nope"},
]
SINGLE_BODIES: list[object] = [
    {"data": "a", "size_inches": 1, "format": "svg"},
    {"data": "a", "size_inches": 9},
    {"data": "a", "size_inches": 1, "color": "rouge"},
    {"data": "a"},
    {"data_type": "vcard", "size_inches": 1},
]


def test_validate_agrees_with_the_real_endpoints_and_spends_nothing(server) -> None:
    # starter caps: 50 items, 8 in, 10 active codes; quota 40 without overage
    account, key = server.account("starter", monthly_quota=40, overage=False)
    headers = {"X-Api-Key": key}

    def codes() -> int:
        return int(httpx.get(server.url + "/api/v1/dynamic/", headers=headers).json()["count"])

    for body in BULK_BODIES + SINGLE_BODIES:
        used, made = server.admin.usage(account), codes()
        answer = httpx.post(server.url + "/api/v1/validate/", json=body, headers=headers)
        assert (server.admin.usage(account), codes()) == (used, made)  # nothing spent
        target = "bulk/" if isinstance(body, dict) and "items" in body else ""
        real = httpx.post(
            f"{server.url}/api/v1/generate/{target}", json=body, headers=headers, timeout=60
        )
        assert real.status_code == answer.status_code, (body, real.text, answer.text)
        if real.status_code == 200:
            assert answer.json()["valid"] is True
            assert answer.json()["kind"] == ("bulk" if target else "single")
            if target:
                archive, _ = open_zip(real.content)
                check_image("png", archive.read("qr-0001.png"), "a", 1, 300)
            else:
                check_image("svg", real.content, "a", 1, 300)
        else:
            assert real.json() == answer.json(), body
            assert ("Retry-After" in real.headers) == ("Retry-After" in answer.headers)
    assert server.admin.usage(account) == 2  # the two valid bodies, nothing else
    assert httpx.post(server.url + "/api/v1/validate/", json={}).status_code == 401
    assert (
        httpx.post(server.url + "/api/v1/validate/", content=b"{", headers=headers).status_code
        == 400
    )


def test_validate_reads_form_items_and_items_with_stray_fields_like_the_real_call(server) -> None:
    _, key = server.account("starter")
    headers = {"X-Api-Key": key}
    form = {"data": "form", "size_inches": "1", "format": "svg"}
    dry = httpx.post(server.url + "/api/v1/validate/", data=form, headers=headers)
    assert dry.status_code == 200 and dry.json()["kind"] == "single"
    real = httpx.post(server.url + "/api/v1/generate/", data=form, headers=headers)
    assert real.status_code == 200
    check_image("svg", real.content, "form", 1, 300)
    stray = {"data": "stray", "size_inches": 1, "items": "ignored"}
    dry = httpx.post(server.url + "/api/v1/validate/", json=stray, headers=headers)
    assert dry.status_code == 200 and dry.json()["kind"] == "single"
    real = httpx.post(server.url + "/api/v1/generate/", json=stray, headers=headers)
    assert real.status_code == 200
    check_image("png", real.content, "stray", 1, 300)
