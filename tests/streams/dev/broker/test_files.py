"""Tests of the local broker's files and cluster id (streams.dev.broker.files), no broker."""

from __future__ import annotations

import string
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from streams.dev.broker import KAFKA_VERSION, BrokerConfig
from streams.dev.broker.files import BrokerFiles, new_cluster_id, output_tail

_ID_ALPHABET = set(string.ascii_letters + string.digits + "-_")


@given(st.binary(min_size=16, max_size=16))
def test_cluster_ids_never_look_like_an_option(token: bytes) -> None:
    # Kafka's storage tool parses its arguments: an id starting with "-" is read as
    # an option and the first start fails ("--cluster-id/-t: expected one argument").
    cluster_id = new_cluster_id(token)
    assert not cluster_id.startswith("-")
    assert len(cluster_id) == 22
    assert set(cluster_id) <= _ID_ALPHABET


def test_a_cluster_id_is_drawn_once_and_kept(tmp_path: Path) -> None:
    files = BrokerFiles(tmp_path)
    first = files.cluster_id()
    assert files.cluster_id_path.read_text("utf-8") == first + "\n"
    assert BrokerFiles(tmp_path).cluster_id() == first


def test_a_kept_cluster_id_that_looks_like_an_option_is_drawn_again(tmp_path: Path) -> None:
    files = BrokerFiles(tmp_path)
    files.dir.mkdir(parents=True)
    for left in ("-wAAAAAAAAAAAAAAAAAAAA\n", "\n"):
        files.cluster_id_path.write_text(left, "utf-8")
        cluster_id = files.cluster_id()
        assert not cluster_id.startswith("-")
        assert len(cluster_id) == 22 and set(cluster_id) <= _ID_ALPHABET
        assert files.cluster_id_path.read_text("utf-8") == cluster_id + "\n"


def test_config_files_carry_the_ports_and_the_data_dir(tmp_path: Path) -> None:
    config = BrokerConfig(home=tmp_path, port=19092, controller_port=19093)
    files = BrokerFiles(config.home)
    files.write_config_files(config)
    properties = dict(
        line.split("=", 1)
        for line in files.properties_path.read_text("utf-8").splitlines()
        if "=" in line and not line.startswith("#")
    )
    assert properties["process.roles"] == "broker,controller"
    assert "127.0.0.1:19092" in properties["listeners"]
    assert "127.0.0.1:19093" in properties["listeners"]
    assert properties["log.dirs"] == str(files.data_dir)
    assert "$" not in files.properties_path.read_text("utf-8")  # every placeholder filled
    assert files.log4j_path.read_text("utf-8").strip()
    assert files.logs_dir.is_dir() and not files.is_formatted()

    # Rewritten on every start: a new port takes effect.
    moved = BrokerConfig(home=tmp_path, port=29092, controller_port=29093)
    files.write_config_files(moved)
    assert "127.0.0.1:29092" in files.properties_path.read_text("utf-8")
    assert files.properties_path.read_text("utf-8").startswith(f"# Apache Kafka {KAFKA_VERSION}:")


def _properties(files: BrokerFiles) -> dict[str, str]:
    text = files.properties_path.read_text("utf-8")
    assert "$" not in text  # every placeholder filled
    pairs = (line.split("=", 1) for line in text.splitlines() if "=" in line)
    return {key: value for key, value in pairs if not key.startswith("#")}


_REPLICATION = (
    "default.replication.factor",
    "offsets.topic.replication.factor",
    "transaction.state.log.replication.factor",
    "share.coordinator.state.topic.replication.factor",
)
_IN_SYNC = (
    "min.insync.replicas",
    "transaction.state.log.min.isr",
    "share.coordinator.state.topic.min.isr",
)


def test_a_single_broker_is_its_own_quorum_with_one_replica_of_everything(tmp_path: Path) -> None:
    files = BrokerFiles(tmp_path)
    files.write_config_files(BrokerConfig(home=tmp_path, port=19092, controller_port=19093))
    props = _properties(files)
    assert (props["node.id"], props["controller.quorum.voters"]) == ("1", "1@127.0.0.1:19093")
    assert {props[key] for key in _REPLICATION + _IN_SYNC} == {"1"}


def test_a_node_of_a_cluster_is_one_voter_of_three_with_three_replicas(tmp_path: Path) -> None:
    files = BrokerFiles(tmp_path / "cluster", "node-2")
    voters = "0@127.0.0.1:41192,1@127.0.0.1:41193,2@127.0.0.1:41194"
    config = BrokerConfig(home=tmp_path, port=41094, controller_port=41194)
    files.write_config_files(config, node_id=2, voters=voters, replicas=3)
    assert files.dir == tmp_path / "cluster" / "node-2"
    props = _properties(files)
    assert (props["node.id"], props["controller.quorum.voters"]) == ("2", voters)
    assert props["listeners"] == ("PLAINTEXT://127.0.0.1:41094,CONTROLLER://127.0.0.1:41194")
    assert props["log.dirs"] == str(tmp_path / "cluster" / "node-2" / "data")
    # every topic, the internal ones too, on 3 replicas; 2 in sync to take a write
    assert {props[key] for key in _REPLICATION} == {"3"}
    assert {props[key] for key in _IN_SYNC} == {"2"}


def test_logs_tail_shows_the_last_lines_of_each_log(tmp_path: Path) -> None:
    files = BrokerFiles(tmp_path)
    assert files.logs_tail() == f"(no log output in {files.logs_dir})"
    files.logs_dir.mkdir(parents=True)
    files.server_log_path.write_text("".join(f"line {i}\n" for i in range(100)))
    files.out_path.write_text("Error: could not find or load main class kafka.Kafka\n")
    tail = files.logs_tail()
    assert f"--- {files.server_log_path} (last lines) ---" in tail
    server_lines = tail.split("\n--- ")[0].splitlines()[1:]
    assert server_lines == [f"line {i}" for i in range(70, 100)]  # the last 30
    assert tail.endswith("could not find or load main class kafka.Kafka")


def test_output_tail_keeps_the_last_lines() -> None:
    text = "\n".join(str(i) for i in range(50)) + "\n\n"
    assert output_tail(text, lines=3) == "47\n48\n49"
