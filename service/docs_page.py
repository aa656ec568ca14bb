"""The interactive API reference (Swagger UI over /schema/openapi.json), served whole by the
service: its scripts and stylesheet come from the ``swagger-ui-py`` distribution's built files,
so the page works where the service has no internet access (an air-gapped print shop) and
loads nothing from a CDN."""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path

__all__ = ["PAGE", "asset", "asset_names", "asset_type"]

# the files the page uses, and their types; nothing else of the distribution is served
_ASSETS = {
    "swagger-ui.css": "text/css",
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui-standalone-preset.js": "text/javascript",
    "favicon-32x32.png": "image/png",
}

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>QR Studio API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" type="image/png" href="/docs/assets/favicon-32x32.png">
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/assets/swagger-ui-standalone-preset.js"></script>
<script>
window.ui = SwaggerUIBundle({
  url: "/schema/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
  layout: "StandaloneLayout",
});
</script>
</body>
</html>
"""


def asset_names() -> list[str]:
    return list(_ASSETS)


@cache
def _static() -> Path:
    spec = importlib.util.find_spec("swagger_ui")  # located, not imported
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("swagger-ui-py is not installed (a dependency of the service)")
    return Path(next(iter(spec.submodule_search_locations))) / "static"


def asset_type(name: str) -> str | None:
    """The media type of a file the page loads; None for any other name."""
    return _ASSETS.get(name)


@cache
def asset(name: str) -> bytes:
    if name not in _ASSETS:
        raise KeyError(name)
    return (_static() / name).read_bytes()
