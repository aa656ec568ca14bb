"""What the handlers share, built by the app's lifespan: settings, store, render pool, gates."""

from __future__ import annotations

from dataclasses import dataclass, field

from .errors import Overloaded
from .limits.store import Store
from .render.pool import RenderPool
from .settings import Settings

__all__ = ["Admission", "Services"]


@dataclass
class Admission:
    """Bounded batches in flight in this process: beyond the bound, 503 at once, no queue."""

    limit: int
    in_flight: int = 0

    def acquire(self) -> None:
        if self.in_flight >= self.limit:
            raise Overloaded(f"This instance is streaming {self.in_flight} batches, its limit; "
                             "retry shortly.", retry_after=2)
        self.in_flight += 1

    def release(self) -> None:
        self.in_flight -= 1


@dataclass
class Services:
    settings: Settings
    store: Store
    pool: RenderPool
    admission: Admission = field(init=False)

    def __post_init__(self) -> None:
        self.admission = Admission(self.settings.max_batches_in_flight)
