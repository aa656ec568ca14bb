"""The render workers' turns: round-robin across accounts, then requests; only as many chunks
handed to the executor as it has workers, so a newcomer never waits behind a queue."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from service.batch import chunk_items
from service.render.fair import FairQueue
from service.render.layout import Layout


def _queue(workers: int = 1) -> tuple[FairQueue, list[str], threading.Event]:
    executor = ThreadPoolExecutor(workers)
    order: list[str] = []
    gate = threading.Event()

    def work(name: str) -> str:
        gate.wait(5)
        order.append(name)
        return name

    fair = FairQueue(executor.submit, workers)
    fair.work = work  # type: ignore[attr-defined]
    return fair, order, gate


def test_a_newcomer_goes_next_not_behind_a_queued_batch() -> None:
    fair, order, gate = _queue()
    batch = [fair.submit(("acme", "batch"), fair.work, f"b{i}") for i in range(20)]
    single = fair.submit(("other", "single"), fair.work, "s")
    assert fair.queued == 20  # one chunk on the worker, the rest waiting with us
    gate.set()
    assert single.result(5) == "s"
    for f in batch:
        f.result(5)
    assert order[:3] == ["b0", "s", "b1"]  # one chunk (b0, on the worker) ahead of it


def test_accounts_take_turns_before_their_requests_do() -> None:
    fair, order, gate = _queue()
    for i in range(3):
        fair.submit(("a", "r1"), fair.work, f"a1-{i}")
        fair.submit(("a", "r2"), fair.work, f"a2-{i}")
    futures = [fair.submit(("b", "r"), fair.work, f"b-{i}") for i in range(3)]
    gate.set()
    for f in futures:
        f.result(5)
    time.sleep(0.05)
    # a1-0 was already on the worker; then b (never served) and a alternate, a's requests
    # alternating
    assert order[0] == "a1-0" and [name[0] for name in order[1:7]] == ["b", "a"] * 3
    a_turns = [name[:2] for name in order[1:] if name[0] == "a"]
    assert all(x != y for x, y in zip(a_turns, a_turns[1:4]))


def test_cancelled_waiting_chunks_are_skipped_and_errors_reach_their_caller() -> None:
    fair, order, gate = _queue()
    first = fair.submit(("a", "r"), fair.work, "x")
    dropped = fair.submit(("a", "r"), fair.work, "dropped")
    assert dropped.cancel()

    def boom() -> None:
        raise ValueError("bad chunk")

    failing = fair.submit(("b", "r"), boom)
    after = fair.submit(("b", "r"), fair.work, "after")
    gate.set()
    assert first.result(5) == "x" and after.result(5) == "after"
    with pytest.raises(ValueError, match="bad chunk"):
        failing.result(5)
    assert "dropped" not in order and fair.queued == 0


class _Item:
    def __init__(self, pixels: int) -> None:
        self.job = type("J", (), {"layout": Layout(pixels=pixels, modules=25, ppm=1, offset=0)})()


def test_chunks_grow_to_16_small_items_but_hold_one_large_item() -> None:
    small = [_Item(900) for _ in range(40)]
    assert [len(c) for c in chunk_items(small)] == [1, 2, 4, 8, 16, 9]  # type: ignore[arg-type]
    large = [_Item(4500) for _ in range(5)]  # 15 in at 300 dpi: 25 times a 3 in item
    assert [len(c) for c in chunk_items(large)] == [1, 1, 1, 1, 1]  # type: ignore[arg-type]
    mixed = [_Item(900)] * 8 + [_Item(4500)] + [_Item(900)] * 8
    assert sum(len(c) for c in chunk_items(mixed)) == 17  # type: ignore[arg-type]
