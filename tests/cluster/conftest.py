"""One real Redis Cluster (3 masters, 3 replicas) for the tests of this directory, started
once per session. The rest of the suite keeps its single redis-server."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator

import pytest

from tests.cluster.rediscluster import Cluster, start_cluster


@pytest.fixture(scope="session")
def redis_cluster() -> Iterator[Cluster]:
    cluster = start_cluster(tempfile.mkdtemp(prefix="qrstudio-cluster-"))
    yield cluster
    cluster.stop()
