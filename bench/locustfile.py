"""A mixed load against a running service: bulk batches of 50, single renders and dynamic QR
redirects (plus the health probe).

    QRSTUDIO_API_KEY=smk_... .venv/bin/locust -f bench/locustfile.py --headless \\
        -H http://127.0.0.1:8000 -u 8 -r 4 -t 30s --only-summary

locust patches the standard library with gevent: it lives here, outside pytest's paths, and the
test suite never imports it.
"""

from __future__ import annotations

import io
import os
import zipfile

from locust import between, task
from locust.contrib.fasthttp import FastHttpUser

KEY = os.environ.get("QRSTUDIO_API_KEY", "")


class BulkClient(FastHttpUser):
    wait_time = between(0.05, 0.2)
    short_id = ""

    def on_start(self) -> None:
        r = self.client.post(
            "/api/v1/dynamic/",
            json={"name": "locust", "destination_url": "https://example.com/"},
            headers={"X-Api-Key": KEY},
            name="dynamic create",
        )
        self.short_id = r.json()["short_id"] if r.status_code == 201 else ""

    @task(10)
    def redirect(self) -> None:
        if not self.short_id:
            return
        with self.client.get(
            f"/q/{self.short_id}/", allow_redirects=False, name="redirect", catch_response=True
        ) as r:
            if r.status_code != 302:
                r.failure(f"HTTP {r.status_code}")

    @task(5)
    def bulk_50(self) -> None:
        items = [{"data": f"https://yourbrand.com/c/{i:04d}", "size_inches": 3} for i in range(50)]
        with self.client.post(
            "/api/v1/generate/bulk/",
            json={"items": items},
            headers={"X-Api-Key": KEY},
            name="bulk x50",
            catch_response=True,
        ) as r:
            if r.status_code != 200:
                r.failure(f"HTTP {r.status_code}: {r.text[:200]}")
                return
            names = zipfile.ZipFile(io.BytesIO(r.content)).namelist()
            if len(names) != 51:
                r.failure(f"{len(names)} members")

    @task(5)
    def single(self) -> None:
        body = {"data": "https://yourbrand.com/single", "size_inches": 2}
        with self.client.post(
            "/api/v1/generate/",
            json=body,
            headers={"X-Api-Key": KEY},
            name="single render",
            catch_response=True,
        ) as r:
            if r.status_code != 200 or not r.content.startswith(b"\x89PNG"):
                r.failure(f"HTTP {r.status_code}")

    @task(1)
    def health(self) -> None:
        self.client.get("/api/health/", name="health")
