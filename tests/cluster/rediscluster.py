"""A real Redis Cluster on loopback: 3 masters and 3 replicas, append-only, started and torn
down by the suite (``redis-server --cluster-enabled yes`` on six ports, then ``redis-cli
--cluster create ... --cluster-replicas 1``)."""

from __future__ import annotations

import os
import random
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field

import redis
import redis.cluster

NODE_TIMEOUT_MS = 2000  # failure detection; a replica is promoted a few seconds after a kill


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _ephemeral_low() -> int:
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_ports(n: int) -> list[int]:
    """``n`` ports whose cluster bus ports (port + 10000) are free as well, both below the
    kernel's ephemeral range: a bus port in it (34472) was once taken by some connection's
    source port between this check and the node's start."""
    top = min(22000, _ephemeral_low() - 10000)
    found: list[int] = []
    while len(found) < n:
        port = random.randrange(top - 9000, top)
        if port not in found and _free(port) and _free(port + 10000):
            found.append(port)
    return found


@dataclass
class Node:
    port: int
    data_dir: str
    appendfsync: str = "everysec"
    process: subprocess.Popen[bytes] | None = None

    @property
    def name(self) -> str:
        return f"127.0.0.1:{self.port}"

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, socket_timeout=5)

    def start(self) -> None:
        exe = shutil.which("redis-server")
        if exe is None:
            raise RuntimeError("redis-server is not installed (.ci/run installs it)")
        self.process = subprocess.Popen(
            [
                exe,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                self.data_dir,
                "--cluster-enabled",
                "yes",
                "--cluster-config-file",
                "nodes.conf",
                "--cluster-node-timeout",
                str(NODE_TIMEOUT_MS),
                "--appendonly",
                "yes",
                "--appendfsync",
                self.appendfsync,
                "--save",
                "",
                "--maxmemory-policy",
                "noeviction",
                "--daemonize",
                "no",
                "--logfile",
                os.path.join(self.data_dir, "redis.log"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 15
        client = self.client()
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError(f"redis-server did not start on {self.port}") from None
                time.sleep(0.05)
        client.close()

    def kill(self) -> None:
        """kill -9."""
        assert self.process is not None
        self.process.kill()
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)

    def role(self) -> str:
        info = self.client().info("replication")
        return str(info["role"])


@dataclass
class Cluster:
    nodes: list[Node]
    root: str
    killed: list[Node] = field(default_factory=list)

    @property
    def url(self) -> str:
        """The one node the service is given; it discovers the others."""
        return f"redis://{self.nodes[0].name}/0"

    def live(self) -> list[Node]:
        return [n for n in self.nodes if n.process is not None and n.process.poll() is None]

    def masters(self) -> list[Node]:
        return [n for n in self.live() if n.role() == "master"]

    def wait_ok(self, timeout: float = 60) -> None:
        """Until every live node sees the cluster as ok, with 3 masters covering every slot
        (after a kill, the dead master's replica promoted), and every live node's slot map
        lists every live node (a client discovers the replicas too)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                states = [n.client().cluster("info") for n in self.live()]
                ok = all(
                    s["cluster_state"] == "ok" and int(s["cluster_slots_ok"]) == 16384
                    for s in states
                )
                if (
                    ok
                    and len(self.masters()) == 3
                    and all(self._mapped(n) == len(self.live()) for n in self.live())
                ):
                    return
            except redis.RedisError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the cluster did not become ok")
            time.sleep(0.2)

    @staticmethod
    def _mapped(node: Node) -> int:
        """How many nodes ``node``'s slot map (what a client discovers from it) names."""
        client = redis.cluster.RedisCluster(host="127.0.0.1", port=node.port)
        try:
            return len(client.get_nodes())
        finally:
            client.close()

    def node_of(self, key: str) -> Node:
        """The master that holds ``key``'s slot now."""
        client = redis.cluster.RedisCluster(host="127.0.0.1", port=self.live()[0].port)
        try:
            port = int(client.get_node_from_key(key).port)
        finally:
            client.close()
        return next(n for n in self.nodes if n.port == port)

    def replicas_caught_up(self, timeout: float = 10) -> None:
        """Until every replica has acknowledged its master's whole replication stream."""
        deadline = time.monotonic() + timeout
        while True:
            behind = []
            for master in self.masters():
                info = master.client().info("replication")
                offset = int(info["master_repl_offset"])
                for key, value in info.items():
                    if key.startswith("slave") and isinstance(value, dict):
                        if int(value["offset"]) < offset:
                            behind.append(master.name)
            if not behind:
                return
            assert time.monotonic() < deadline, f"replicas behind: {behind}"
            time.sleep(0.05)

    def restart(self, node: Node) -> None:
        """Start a killed node again (from its AOF and nodes.conf: it rejoins as a replica)."""
        node.start()
        deadline = time.monotonic() + 60
        while len(self.live()) == 6:
            try:
                if (
                    all(
                        int(n.client().cluster("info")["cluster_known_nodes"]) == 6
                        for n in self.live()
                    )
                    and node.role() == "slave"
                ):
                    break
            except redis.RedisError:
                pass
            assert time.monotonic() < deadline, "the node did not rejoin"
            time.sleep(0.2)
        self.wait_ok()
        self.replicas_caught_up(30)

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()
        shutil.rmtree(self.root, ignore_errors=True)


def start_cluster(root: str, appendfsync: str = "everysec") -> Cluster:
    nodes = []
    for port in free_ports(6):
        data_dir = os.path.join(root, str(port))
        os.makedirs(data_dir)
        nodes.append(Node(port, data_dir, appendfsync))
    cluster = Cluster(nodes, root)
    try:
        for node in nodes:
            node.start()
        exe = shutil.which("redis-cli")
        if exe is None:
            raise RuntimeError("redis-cli is not installed (Debian's redis-tools)")
        subprocess.run(
            [
                exe,
                "--cluster",
                "create",
                *(n.name for n in nodes),
                "--cluster-replicas",
                "1",
                "--cluster-yes",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            timeout=60,
        )
        cluster.wait_ok()
    except BaseException:
        cluster.stop()
        raise
    return cluster
