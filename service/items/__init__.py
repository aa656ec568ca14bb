"""The item rules, apart from the HTTP schema: every failing field of a body (``fields``),
the content string each payload type encodes (``content``), and an item's checks, version and
layout planning into a render job (``validation``)."""
