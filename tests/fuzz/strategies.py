"""Hypothesis strategies for render items: every data type and payload, every pattern, eye
shape and part, quiet zones, colours with alpha, gradients, frames with captions from every
Unicode category, sizes and dpi at their limits, PNG and SVG.

Inks are drawn dark and backgrounds light (or transparent), with alpha, plus the other way round
(an inverted code) and some pairs the contrast rule refuses: the properties need both valid
items that must read back and invalid ones that must be refused the same way everywhere.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from service.schema import EyeBorderShape, EyeCenterShape, EyeShape, FrameStyle, Pattern

__all__ = ["items"]

PATTERNS = list(Pattern.__args__)
EYE_SHAPES = list(EyeShape.__args__)
EYE_BORDERS = list(EyeBorderShape.__args__)
EYE_CENTRES = list(EyeCenterShape.__args__)
FRAMES = [f for f in FrameStyle.__args__ if f != "none"]

# sizes and dpi at the contract's limits (0.5-15 in, 72-600 dpi), kept to images of at most
# MAX_PIXELS so that every one can be decoded within the suite's time
MAX_PIXELS = 1800
SIZES = [0.5, 0.51, 0.75, 1, 1.3, 2, 2.5, 3, 6, 15]
DPIS = [72, 73, 96, 150, 203, 300, 599, 600]

# captions: spaces, format characters (zero-width, bidi, BOM), combining marks, RTL scripts,
# CJK, emoji with modifiers and joiners, symbols, control characters, and very long ones
CAPTIONS = [
    "Scan me",
    " ",
    "\u00a0",
    "\u200b",
    "\u202e",
    "\ufeff",
    "\u200d\u200c",
    "\u2028",
    "\u2029",
    "e\u0301\u0302\u0303",
    "\u0301",
    "\u05e1\u05e8\u05d5\u05e7",
    "\u0627\u0645\u0633\u062d",
    "\u202eSCAN\u202c",
    "\u626b\u63cf",
    "\U0001f600",
    "\U0001f44d\U0001f3fd",
    "\U0001f469\u200d\U0001f4bb",
    "\u2603\u2764\ufe0f",
    "a\tb",
    "\x00",
    "\x7f",
    "W" * 40,
    "\U0001f600" * 40,
    "\ufdfd" * 40,
    "x\u0300" * 20,
    "<&>\"'",
    "\ud7ff\ue000\ufffd",
]
CATEGORIES = [
    "Lu",
    "Ll",
    "Lt",
    "Lm",
    "Lo",
    "Mn",
    "Mc",
    "Me",
    "Nd",
    "Nl",
    "No",
    "Pc",
    "Pd",
    "Ps",
    "Pe",
    "Pi",
    "Pf",
    "Po",
    "Sm",
    "Sc",
    "Sk",
    "So",
    "Zs",
    "Zl",
    "Zp",
    "Cc",
    "Cf",
    "Co",
]


def _hex(low: int, high: int, alphas: list[str]) -> st.SearchStrategy[str]:
    channel = st.integers(low, high).map(lambda v: f"{v:02X}")
    return st.builds(
        lambda r, g, b, a: f"#{r}{g}{b}{a}", channel, channel, channel, st.sampled_from(alphas)
    )


INK = st.one_of(
    st.sampled_from(["black", "Black", "#000000"]), _hex(0, 0x50, ["", "FF", "E0", "C0"])
)
LIGHT = st.one_of(st.sampled_from(["white", "WHITE"]), _hex(0xC8, 0xFF, ["", "FF", "C0", "80"]))
LIGHT_INK = st.one_of(st.sampled_from(["white", "WHITE"]), _hex(0xC8, 0xFF, ["", "FF"]))
MID = _hex(0x60, 0xB0, ["", "FF"])  # mostly refused by the contrast rule on opaque grounds
TRANSPARENT = st.sampled_from(["transparent", "Transparent"])
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=60)
PRINTABLE = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1, max_size=30)
PHONE = st.from_regex(r"\+?[0-9]{3,15}", fullmatch=True)


def _payloads() -> dict[str, st.SearchStrategy[dict[str, Any]]]:
    def optional(**fields: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
        return st.fixed_dictionaries({}, optional=fields)

    card = st.builds(
        lambda required, extra: {**required, **extra},
        st.fixed_dictionaries({"name": TEXT.filter(str.strip)}),
        optional(
            phone=PHONE,
            email=st.emails(),
            org=TEXT,
            title=PRINTABLE,
            url=st.just("https://example.com/card"),
            note=TEXT,
            address=TEXT,
            phones=st.lists(PHONE, max_size=3),
        ),
    )
    return {
        "vcard": card,
        "mecard": card,
        "wifi": st.builds(
            lambda ssid, pw, sec, hidden: {
                "ssid": ssid,
                "password": pw,
                "security": sec,
                "hidden": hidden,
            },
            TEXT,
            PRINTABLE,
            st.sampled_from(["WPA", "WEP", "nopass"]),
            st.booleans(),
        ),
        "email": st.builds(
            lambda to, extra: {"to": to, **extra},
            st.emails(),
            optional(subject=TEXT, body=TEXT, cc=st.emails()),
        ),
        "sms": st.builds(lambda n, extra: {"number": n, **extra}, PHONE, optional(message=TEXT)),
        "geo": st.fixed_dictionaries({"lat": st.floats(-90, 90), "lng": st.floats(-180, 180)}),
        "dynamic": st.fixed_dictionaries(
            {
                "name": PRINTABLE,
                "destination_url": st.sampled_from(
                    [
                        "https://example.com/promo",
                        "http://example.org/a?b=c",
                        "https://xn--bcher-kva.example/ü",
                    ]
                ),
            }
        ),
        "phone": st.fixed_dictionaries({"number": PHONE}),
        "epc": st.fixed_dictionaries(
            {
                "name": st.text(
                    st.characters(min_codepoint=0x41, max_codepoint=0x7A), min_size=1, max_size=30
                ),
                "iban": st.sampled_from(["BE72000000001616", "DE89 3704 0044 0532 0130 00"]),
                "amount": st.integers(1, 99_999_999).map(lambda cents: cents / 100),
            },
            optional={"text": PRINTABLE},
        ),
        "event": st.fixed_dictionaries(
            {
                "summary": TEXT,
                "start": st.sampled_from(
                    ["2026-12-01", "2026-12-01T18:00:00", "2026-12-01T18:00:00+01:00", "not a date"]
                ),
            },
            optional={"location": TEXT, "end": st.just("2026-12-02")},
        ),
    }


@st.composite
def _content(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["url", "text", *_payloads()]))
    if kind == "url":
        path = draw(st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=40))
        return {"data": f"https://example.com/{path}"}
    if kind == "text":
        return {"data_type": "text", "data": draw(TEXT)}
    payload = draw(_payloads()[kind])
    if kind == "epc":
        return {"data_type": kind, "payload": payload, "error_correction": "M"}
    return {"data_type": kind, "payload": payload}


@st.composite
def _colours(draw: st.DrawFn) -> dict[str, Any]:
    scheme = draw(st.sampled_from(["dark-on-light", "dark-on-transparent", "inverted", "refused"]))
    if scheme == "inverted":
        # opaque: a translucent light ink on a dark ground is open (see test_fuzz_findings.py)
        ink, ground = draw(LIGHT_INK), draw(INK.filter(lambda c: len(c) != 9 or c.endswith("FF")))
    elif scheme == "refused":
        ink, ground = draw(MID), draw(st.one_of(LIGHT, MID))
    else:
        ink = draw(INK)
        ground = draw(LIGHT if scheme == "dark-on-light" else TRANSPARENT)
    out: dict[str, Any] = {"color": ink, "background": ground}
    inks = LIGHT_INK if scheme == "inverted" else INK
    if draw(st.booleans()):
        out["gradient_from"], out["gradient_to"] = draw(inks), draw(inks)
    for field in ("eye_color", "eye_border_color", "eye_center_color"):
        if draw(st.integers(0, 3)) == 0:
            out[field] = draw(inks)
    return out


@st.composite
def _frame(draw: st.DrawFn) -> dict[str, Any]:
    style = draw(st.sampled_from(["none", *FRAMES]))
    if style == "none":
        return {}
    out: dict[str, Any] = {"frame_style": style}
    if draw(st.booleans()):
        out["frame_color"] = draw(st.one_of(INK, LIGHT))
    label = draw(
        st.one_of(
            st.none(),
            st.sampled_from(CAPTIONS),
            st.text(
                st.characters(categories=[draw(st.sampled_from(CATEGORIES))], codec="utf-8"),
                min_size=1,
                max_size=40,
            ),
        )
    )
    if label is not None:
        out["frame_label"] = label
    return out


@st.composite
def items(draw: st.DrawFn, formats: tuple[str, ...] = ("png", "svg")) -> dict[str, Any]:
    """One item for a pro account (15 in, 600 dpi), at most MAX_PIXELS wide."""
    size = draw(st.sampled_from(SIZES))
    dpi = draw(st.sampled_from([d for d in DPIS if size * d <= MAX_PIXELS] or [72]))
    item: dict[str, Any] = {
        **draw(_content()),
        "size_inches": size,
        "dpi": dpi,
        "format": draw(st.sampled_from(formats)),
        "quiet_zone": draw(st.integers(0, 10)),
        "pattern": draw(st.sampled_from(PATTERNS)),
        "eye_shape": draw(st.sampled_from(EYE_SHAPES)),
        **draw(_colours()),
        **draw(_frame()),
    }
    if draw(st.booleans()):
        item["eye_border_shape"] = draw(st.sampled_from(EYE_BORDERS))
    if draw(st.booleans()):
        item["eye_center_shape"] = draw(st.sampled_from(EYE_CENTRES))
    if draw(st.booleans()):
        item["eye_outer_frame"] = True
        item["eye_outer_frame_match"] = draw(st.booleans())
    if "error_correction" not in item and draw(st.booleans()):
        item["error_correction"] = draw(st.sampled_from(["L", "M", "Q", "H", "auto"]))
    return item
