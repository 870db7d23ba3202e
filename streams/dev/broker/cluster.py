"""A local three-node KRaft cluster of one home: ``yujing broker start --nodes 3``.

Where this sits: development infrastructure, not in the event flow. It gives the
pipeline, and the tests that make brokers fail, a Kafka cluster that keeps working
with one node lost, from the same jars and Java as the single broker of
:mod:`~streams.dev.broker.local`: the path for users who outgrow one broker.

Node ``i`` (0, 1, 2) is a combined broker and controller with node id ``i``, listening
on the loopback on ``port + i`` for clients and ``controller_port + i`` for its
controller. Its files are in ``<home>/cluster/node-<i>/`` (the layout of
:class:`~streams.dev.broker.files.BrokerFiles`), and every node is formatted with the
one id kept in ``<home>/cluster/cluster.id``. The three are the voters of a static
KRaft quorum, and every topic, the internal ones included, gets three replicas of which
two must be in sync to take a write acked by all: one node may be killed or paused and
the cluster still takes writes and serves reads.

* ``start`` is idempotent and heals: running nodes are kept, the others (say, one a
  test killed) are started, and it returns once every node answers with all of them
  in its metadata;
* ``stop`` stops every node of this home, never a process it did not start;
* ``status`` reports each node at the address it was started with.

The single broker and the cluster of one home never run at once: their ports overlap.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from streams.dev.broker.config import BrokerConfig, BrokerError
from streams.dev.broker.files import BrokerFiles, file_lock, kept_cluster_id
from streams.dev.broker.jars import install_jars
from streams.dev.broker.java import check_java, java_executable
from streams.dev.broker.probe import broker_answers, port_in_use
from streams.dev.broker.process import BrokerProcess, is_alive

__all__ = ["CLUSTER_NODES", "NODE_COUNTS", "ClusterStatus", "LocalCluster", "NodeStatus"]

#: What ``--nodes`` accepts: one broker, or three KRaft voters, which keep a majority
#: with one lost (two would stop with either lost).
NODE_COUNTS = (1, 3)
CLUSTER_NODES = 3
_LISTENER = re.compile(r"^listeners=PLAINTEXT://([^,\s]+)", re.M)


def check_nodes(nodes: int) -> int:
    """``nodes`` if ``--nodes`` may be it, else a one-line :class:`BrokerError`."""
    if nodes not in NODE_COUNTS:
        raise BrokerError(
            f"--nodes must be 1 or 3, got {nodes}: one broker, or three KRaft voters that "
            "keep working with one of them lost (with two, losing either stops the cluster)"
        )
    return nodes


@dataclass(frozen=True)
class NodeStatus:
    """One line of ``yujing broker status`` for a cluster."""

    index: int
    running: bool
    pid: int | None
    bootstrap: str
    answering: bool


@dataclass(frozen=True)
class ClusterStatus:
    """Every node of the cluster, in node order."""

    nodes: tuple[NodeStatus, ...]

    @property
    def healthy(self) -> bool:
        """Every node runs and answers."""
        return all(node.running and node.answering for node in self.nodes)


class ClusterNode:
    """Node ``index`` of a cluster: its files and its process."""

    def __init__(self, config: BrokerConfig, index: int) -> None:
        self.index = index
        self.files = BrokerFiles(config.home / "cluster", f"node-{index}")
        self.process = BrokerProcess(self.files)
        self.port = config.port + index
        self.controller_port = config.controller_port + index

    def started_bootstrap(self) -> str | None:
        """The client address in this node's ``server.properties``: what it last ran with."""
        try:
            match = _LISTENER.search(self.files.properties_path.read_text("utf-8"))
        except OSError:
            return None
        return match.group(1) if match else None


class LocalCluster:
    """Start, stop and inspect the local three-node KRaft cluster of one home."""

    def __init__(self, config: BrokerConfig, nodes: int = CLUSTER_NODES) -> None:
        self.config = config
        self.nodes = [ClusterNode(config, i) for i in range(check_nodes(nodes))]
        self.dir = config.home / "cluster"
        self._lock_path = self.dir / "cluster.lock"

    def __repr__(self) -> str:
        return f"LocalCluster(home={self.config.home}, bootstrap={self.bootstrap})"

    @property
    def bootstrap(self) -> str:
        """The addresses clients use: ``127.0.0.1:<port + i>`` for every node, comma-separated."""
        return ",".join(f"127.0.0.1:{node.port}" for node in self.nodes)

    def exists(self) -> bool:
        """Has a node of this home's cluster ever been started?"""
        return any(node.files.properties_path.is_file() for node in self.nodes)

    def running_pids(self) -> list[int]:
        """The pids of this home's running nodes, in node order."""
        pids = [node.process.owned_pid() for node in self.nodes if node.files.dir.is_dir()]
        return [pid for pid in pids if pid is not None]

    def start(self, timeout: float = 60) -> str:
        """Start every node that does not run; return once all answer (the bootstrap)."""
        self._check_ports()
        self.dir.mkdir(parents=True, exist_ok=True)
        with file_lock(self._lock_path):
            self._refuse_the_single_broker()
            pids = {node.index: node.process.owned_pid() for node in self.nodes}
            missing = [node for node in self.nodes if pids[node.index] is None]
            self._check_running_nodes([n for n in self.nodes if pids[n.index] is not None])
            self._check_free(missing)
            launched: dict[int, subprocess.Popen[bytes]] = {}
            try:
                if missing:
                    launched = self._launch(missing)
                    pids.update({index: proc.pid for index, proc in launched.items()})
                self._wait_ready(pids, launched, timeout)
            except BrokerError as exc:
                if not launched:
                    raise
                self._terminate([(self.nodes[i], proc.pid) for i, proc in launched.items()], 15)
                head, _, tail = str(exc).partition("\n")
                note = "; the nodes this start launched were stopped"
                raise BrokerError(head + note + (f"\n{tail}" if tail else "")) from None
        return self.bootstrap

    def stop(self, timeout: float = 30) -> list[int]:
        """Stop every node of this home (SIGTERM, SIGKILL after ``timeout``); their pids."""
        if not self.dir.is_dir():
            return []
        with file_lock(self._lock_path):
            owned = []
            for node in self.nodes:
                pid = node.process.owned_pid() if node.files.dir.is_dir() else None
                if pid is None:
                    node.process.remove_pid_file()  # stale, or naming a process not ours
                else:
                    owned.append((node, pid))
            self._terminate(owned, timeout)
            return [pid for _, pid in owned]

    def status(self) -> ClusterStatus:
        """Is each node running, and does it answer (at the address it was started with)?"""
        found = []
        for node in self.nodes:
            pid = node.process.owned_pid() if node.files.dir.is_dir() else None
            bootstrap = node.started_bootstrap() or f"127.0.0.1:{node.port}"
            answering = pid is not None and broker_answers(bootstrap, timeout=3.0)
            found.append(NodeStatus(node.index, pid is not None, pid, bootstrap, answering))
        return ClusterStatus(tuple(found))

    def _check_ports(self) -> None:
        cfg, n = self.config, len(self.nodes)
        for name, value in (("port", cfg.port), ("controller_port", cfg.controller_port)):
            if value + n - 1 > 65535:
                raise BrokerError(
                    f"{name} must be between 1 and {65536 - n} for {n} nodes "
                    f"(node i listens on {name} + i), got {value}"
                )
        if abs(cfg.port - cfg.controller_port) < n:
            other = cfg.port + 100 if cfg.port + 100 + n <= 65536 else cfg.port - 100
            raise BrokerError(
                f"the client ports {cfg.port}-{cfg.port + n - 1} and the controller ports "
                f"{cfg.controller_port}-{cfg.controller_port + n - 1} of {n} nodes overlap: "
                f"put YUJING_BROKER_CONTROLLER_PORT (or --controller-port) at least {n} away "
                f"from YUJING_BROKER_PORT (or --port), e.g. YUJING_BROKER_CONTROLLER_PORT={other}"
            )

    def _refuse_the_single_broker(self) -> None:
        files = BrokerFiles(self.config.home)
        pid = BrokerProcess(files).owned_pid() if files.dir.is_dir() else None
        if pid is not None:
            raise BrokerError(
                f"the single-node broker of {self.config.home} runs (pid {pid}): stop it "
                "with `yujing broker stop` first, or give the cluster another YUJING_HOME"
            )

    def _check_running_nodes(self, running: list[ClusterNode]) -> None:
        for node in running:
            started = node.started_bootstrap()
            if started is not None and started != f"127.0.0.1:{node.port}":
                raise BrokerError(
                    f"node {node.index} of the cluster of {self.config.home} runs on {started}, "
                    f"not on 127.0.0.1:{node.port}: `yujing broker stop` it to move its ports"
                )

    def _check_free(self, missing: list[ClusterNode]) -> None:
        for node in missing:
            for port, role, var in (
                (node.port, "client", "YUJING_BROKER_PORT"),
                (node.controller_port, "controller", "YUJING_BROKER_CONTROLLER_PORT"),
            ):
                if port_in_use(port):
                    raise BrokerError(
                        f"port {port} (node {node.index}'s {role} port) on 127.0.0.1 is already "
                        f"in use by another process, not by the yujing cluster of "
                        f"{self.config.home}: stop that process or move the ports with {var}"
                    )

    def _launch(self, missing: list[ClusterNode]) -> dict[int, subprocess.Popen[bytes]]:
        """Write the missing nodes' files, format them, start them; their processes."""
        java = java_executable()
        check_java()
        libs = install_jars()
        cluster_id = kept_cluster_id(self.dir / "cluster.id")
        voters = ",".join(f"{n.index}@127.0.0.1:{n.controller_port}" for n in self.nodes)
        replicas = min(3, len(self.nodes))
        for node in missing:
            node.process.remove_pid_file()
            node_config = BrokerConfig(
                home=self.config.home,
                port=node.port,
                controller_port=node.controller_port,
                heap_mb=self.config.heap_mb,
            )
            node.files.write_config_files(node_config, node.index, voters, replicas)
        # Each format is a JVM of a few seconds: side by side, not one after another.
        with ThreadPoolExecutor(len(missing)) as pool:
            done = [pool.submit(n.process.format_storage, java, libs, cluster_id) for n in missing]
            for future in done:
                future.result()
        launched: dict[int, subprocess.Popen[bytes]] = {}
        try:
            for node in missing:
                proc = node.process.launch(java, libs, self.config.heap_mb)
                node.process.write_pid_file(proc.pid)
                launched[node.index] = proc
        except BrokerError:
            self._terminate([(self.nodes[i], p.pid) for i, p in launched.items()], 15)
            raise
        return launched

    def _wait_ready(
        self,
        pids: dict[int, int | None],
        launched: dict[int, subprocess.Popen[bytes]],
        timeout: float,
    ) -> None:
        """Wait until every node answers with all nodes in its metadata."""
        deadline = time.monotonic() + timeout
        waiting = list(self.nodes)
        while True:
            for node in self.nodes:
                pid, proc = pids[node.index], launched.get(node.index)
                code = proc.poll() if proc is not None else None
                if pid is None or code is not None or (proc is None and not is_alive(pid)):
                    node.process.remove_pid_file()
                    how = f"exited with code {code}" if code is not None else "exited"
                    raise BrokerError(
                        f"node {node.index} of the Kafka cluster (pid {pid}) {how} before the "
                        f"cluster answered on {self.bootstrap}\n" + node.files.logs_tail()
                    )
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            probe_s = min(5.0, max(1.0, remaining))
            waiting = [
                n
                for n in waiting
                if not broker_answers(f"127.0.0.1:{n.port}", probe_s, brokers=len(self.nodes))
            ]
            if not waiting:
                return
            time.sleep(0.5)
        late = waiting[0]
        raise BrokerError(
            f"the Kafka cluster did not answer on {self.bootstrap} with all {len(self.nodes)} "
            f"nodes within {timeout:.0f} s (node {late.index} did not)\n" + late.files.logs_tail()
        )

    def _terminate(self, owned: list[tuple[ClusterNode, int]], timeout: float) -> None:
        """SIGTERM to every node at once, then wait for each; SIGKILL at the deadline."""
        for _, pid in owned:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for node, pid in owned:
            node.process.terminate(pid, max(0.0, deadline - time.monotonic()))
            node.process.remove_pid_file()
