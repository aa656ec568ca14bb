"""What the handlers share, built by the app's lifespan: settings, store, render pool, gates."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from .assets.loader import AssetLoader
from .errors import Overloaded, QuotaExceeded
from .limits.store import Store
from .metrics import Metrics
from .render.pool import RenderPool
from .render_cache import RenderCache
from .rendering import Renderer
from .settings import Settings
from .streams import Streams

__all__ = ["Admission", "Services"]


@dataclass
class Admission:
    """Bounded batches in flight, per process (503) and per account (429): refused at once,
    never queued. Counted in this process; with N workers an account may have N x its bound."""

    limit: int
    per_account: int
    in_flight: int = 0
    accounts: Counter[str] = field(default_factory=Counter)

    def check(self) -> None:
        """503 now if the process is at its limit, holding nothing: a request is refused in
        the contract's order, but takes its slot only once its body has arrived, so slow
        uploads cannot hold the slots every other account needs."""
        if self.in_flight >= self.limit:
            raise Overloaded(
                f"This instance is streaming {self.in_flight} batches, its limit; retry shortly.",
                retry_after=2,
            )

    def enter(self) -> None:
        self.check()
        self.in_flight += 1

    def enter_account(self, account: str) -> None:
        """The account's slot (it covers its uploads too: a slow upload holds only its own
        account's); on refusal, slots already taken are the caller's to give back."""
        if self.accounts[account] >= self.per_account:
            raise QuotaExceeded(
                f"Your account already has {self.accounts[account]} batches "
                "streaming, the most at once; retry when one completes.",
                2,
                reason="account_busy",
            )
        self.accounts[account] += 1

    def leave(self, account: str | None, process: bool = True) -> None:
        if process:
            self.in_flight -= 1
        if account is not None:
            self.accounts[account] -= 1
            if self.accounts[account] <= 0:
                del self.accounts[account]


@dataclass
class Services:
    settings: Settings
    store: Store
    pool: RenderPool
    cache: RenderCache
    assets: AssetLoader
    metrics: Metrics = field(default_factory=Metrics)
    admission: Admission = field(init=False)
    streams: Streams = field(default_factory=Streams)

    renderer: Renderer = field(init=False)

    def __post_init__(self) -> None:
        self.admission = Admission(
            self.settings.max_batches_in_flight, self.settings.max_batches_per_account
        )
        self.renderer = Renderer(self.pool, self.cache, self.settings.png_compression)
