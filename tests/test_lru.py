"""The one LRU map (``service.lru``): bounded by cost, least recently used out first, an
entry over ``largest`` never kept, replacing an entry re-counts its cost."""

from __future__ import annotations

from service.lru import LRU


def test_counted_entries_drop_the_least_recently_used() -> None:
    lru: LRU[str, int] = LRU(2)
    lru.put("a", 1)
    lru.put("b", 2)
    assert lru.get("a") == 1  # a is now the most recent
    lru.put("c", 3)
    assert "b" not in lru and list(lru) == ["a", "c"] and len(lru) == 2
    assert lru.get("b") is None


def test_a_byte_budget_is_kept_and_replacing_recounts() -> None:
    lru: LRU[str, bytes] = LRU(10, len)
    lru.put("a", b"xxxx")
    lru.put("b", b"yyyy")
    assert lru.size == 8
    lru.put("a", b"z")  # replaced: 1 + 4
    assert lru.size == 5 and lru.get("a") == b"z"
    lru.put("c", b"wwwwww")  # 11 > 10: the least recent (b) goes
    assert list(lru) == ["a", "c"] and lru.size == 7
    assert lru.pop("a") == b"z" and lru.size == 6
    lru.clear()
    assert len(lru) == 0 and lru.size == 0


def test_an_entry_over_largest_is_made_but_not_kept() -> None:
    lru: LRU[str, bytes] = LRU(100, len, largest=25)
    made = []

    def make() -> bytes:
        made.append(1)
        return b"x" * 30

    assert lru.get_or_make("big", make) == b"x" * 30
    assert lru.get_or_make("big", make) == b"x" * 30
    assert len(made) == 2 and "big" not in lru and lru.size == 0
    assert lru.get_or_make("small", lambda: b"y" * 25) == b"y" * 25
    assert lru.get_or_make("small", make) == b"y" * 25  # kept: not made again
