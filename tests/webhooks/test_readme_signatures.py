"""The README's signature checks, in Python and in Node, run as written on a signed body."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from pathlib import Path

from service.webhooks.model import signature_header

README = Path(__file__).resolve().parents[2] / "README.md"


def _block(marker: str) -> str:
    found = re.search(
        rf"<!-- signature-check:{marker} -->\n```\w+\n(.*?)```", README.read_text(), re.S
    )
    assert found, f"README has no {marker} signature check"
    return found.group(1)


SECRET = "whsec_readme"
BODY = b'{"id":"evt_1","type":"scan.created","created_at":"2026-12-01T00:00:00+00:00","data":{}}'


def cases() -> list[tuple[str, bytes, bool]]:
    now = int(time.time())
    good = signature_header(SECRET, now, BODY)
    return [
        (good, BODY, True),
        (good, BODY + b" ", False),
        (signature_header("whsec_other", now, BODY), BODY, False),
        (signature_header(SECRET, now - 3600, BODY), BODY, False),
        ("t=abc,v1=00", BODY, False),
        ("", BODY, False),
    ]


def test_python_check() -> None:
    scope: dict[str, object] = {}
    exec(_block("python"), scope)
    verify = scope["verify"]
    for header, body, expected in cases():
        assert verify(SECRET, header, body) is expected, header  # type: ignore[operator]


def test_node_check(tmp_path: Path) -> None:
    node = shutil.which("node")
    assert node, "node is part of this machine's image"
    script = tmp_path / "verify.cjs"
    data = [[h, b.decode(), e] for h, b, e in cases()]
    script.write_text(
        _block("node")
        + f"""
const cases = {json.dumps(data)};
for (const [header, body, expected] of cases) {{
  if (verify({json.dumps(SECRET)}, header, Buffer.from(body)) !== expected) {{
    console.error("mismatch", header); process.exit(1);
  }}
}}
"""
    )
    done = subprocess.run([node, str(script)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
