"""hush.data.cluster: a node's nodes.conf -- locked, loaded or made, saved, checked against data."""

from __future__ import annotations

import fcntl
import os

import pytest

from hush.config.settings import Settings
from hush.data.cluster import ClusterStartError, ClusterState
from hush.data.slots import SlotIndex
from hush.formats import nodes_conf
from hush.formats.keyslot import key_slot

A, B, C = b"a" * 40, b"b" * 40, b"c" * 40

THREE = b"""\
%(A)s 10.0.0.1:7000@17000 myself,master - 0 0 1 connected 0-5460
%(B)s 10.0.0.2:7001@17001 master - 0 0 2 connected 5461-10922
%(C)s 10.0.0.3:7002@17002 master - 0 0 3 connected 10923-16383
vars currentEpoch 3 lastVoteEpoch 0
""" % {b"A": A, b"B": B, b"C": C}


def settings_in(path, **values) -> Settings:
    return Settings(dir=str(path), cluster_enabled=True, port=values.pop("port", 7000), **values)


@pytest.fixture
def opened():
    states: list[ClusterState] = []

    def open_state(settings: Settings, index: SlotIndex | None = None) -> ClusterState:
        state = ClusterState.open(settings, index or SlotIndex())
        states.append(state)
        return state

    yield open_state
    for state in states:
        state.close()


def test_loads_the_file_and_serves_on_its_own_port(tmp_path, opened):
    (tmp_path / "nodes.conf").write_bytes(THREE)
    state = opened(settings_in(tmp_path, port=7100))
    assert not state.created and state.ok
    assert state.myself.id == A and (state.myself.port, state.myself.cport) == (7100, 17100)
    assert state.myself.ip == b"10.0.0.1"
    assert state.owner(0).id == A and state.owner(16383).id == C
    assert state.node(B).ip == b"10.0.0.2" and state.node(b"b" * 39) is None
    # The file is not rewritten at start.
    assert (tmp_path / "nodes.conf").read_bytes() == THREE


def test_the_file_is_relative_to_dir(tmp_path, opened):
    (tmp_path / "n7000.conf").write_bytes(THREE)
    state = opened(settings_in(tmp_path, cluster_config_file="n7000.conf"))
    assert state.path == str(tmp_path / "n7000.conf") and state.myself.id == A


def test_a_missing_or_empty_file_makes_a_new_node(tmp_path, opened):
    (tmp_path / "empty.conf").write_bytes(b"")
    for name in ("nodes.conf", "empty.conf"):
        state = opened(settings_in(tmp_path, cluster_config_file=name))
        assert state.created and not state.ok
        myself = state.myself
        assert len(myself.id) == 40 and set(myself.id) <= set(b"0123456789abcdef")
        assert (myself.ip, myself.port, myself.cport) == (b"", 7000, 17000)
        assert myself.flags == {b"master"} and state.config.slot_count(myself.id) == 0
        saved = nodes_conf.parse((tmp_path / name).read_bytes())
        assert saved.myself == myself.id and list(saved.nodes) == [myself.id]
        state.close()


def test_two_nodes_cannot_share_a_file(tmp_path, opened):
    opened(settings_in(tmp_path))
    with pytest.raises(ClusterStartError, match="^Sorry, the cluster configuration file .* is "
                       "already used by a different Redis Cluster node"):
        ClusterState.open(settings_in(tmp_path), SlotIndex())


def test_the_lock_is_released_by_close(tmp_path, opened):
    first = opened(settings_in(tmp_path))
    first.close()
    second = opened(settings_in(tmp_path))
    with open(second.path) as handle, pytest.raises(BlockingIOError):
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)


def test_a_corrupt_file_stops_the_start(tmp_path):
    (tmp_path / "nodes.conf").write_bytes(b"not a node line\n")
    with pytest.raises(ClusterStartError, match="^Unrecoverable error: corrupted cluster "
                                                "config file.$"):
        ClusterState.open(settings_in(tmp_path), SlotIndex())
    # The lock went with the failed start: another try can take it.
    (tmp_path / "nodes.conf").write_bytes(THREE)
    ClusterState.open(settings_in(tmp_path), SlotIndex()).close()


def test_a_replica_line_stops_the_start(tmp_path):
    text = THREE.replace(b"myself,master - 0 0 1 connected 0-5460",
                         b"myself,slave " + B + b" 0 0 0 connected")
    (tmp_path / "nodes.conf").write_bytes(text)
    with pytest.raises(ClusterStartError, match="Hush has no replication"):
        ClusterState.open(settings_in(tmp_path), SlotIndex())


def test_an_unreadable_file_stops_the_start(tmp_path):
    (tmp_path / "nodes.conf").mkdir()
    with pytest.raises(ClusterStartError, match="^Can't open .* in order to acquire a lock"):
        ClusterState.open(settings_in(tmp_path), SlotIndex())


def test_current_epoch_is_at_least_the_greatest_node_epoch(tmp_path, opened):
    (tmp_path / "nodes.conf").write_bytes(THREE.replace(b"currentEpoch 3", b"currentEpoch 1"))
    assert opened(settings_in(tmp_path)).config.current_epoch == 3


def test_save_rewrites_in_place_padding_a_shorter_content(tmp_path, opened):
    path = tmp_path / "nodes.conf"
    path.write_bytes(THREE + b"\n" * 100)
    state = opened(settings_in(tmp_path, port=7000))
    inode = os.stat(path).st_ino
    state.config.slots[16383] = None
    state.save()
    assert os.stat(path).st_ino == inode
    assert path.read_bytes() == nodes_conf.dump(state.config)
    assert b"10923-16382\n" in path.read_bytes()


def test_state_follows_coverage_and_the_setting(tmp_path, opened):
    (tmp_path / "nodes.conf").write_bytes(THREE)
    settings = settings_in(tmp_path)
    state = opened(settings)
    state.slots[100] = None
    state.changed()
    assert not state.ok
    settings.cluster_require_full_coverage = False
    state.update_state()
    assert state.ok


def test_state_change_is_logged(tmp_path, opened, logged):
    (tmp_path / "nodes.conf").write_bytes(THREE)
    state = opened(settings_in(tmp_path))
    state.slots[0] = None
    state.update_state()
    texts = [event.get("state") for event in logged if "Cluster state changed" in
             event.get("log_format", "")]
    assert texts == ["ok", "fail"]


def test_verify_data_claims_or_imports_slots_with_keys(tmp_path, opened):
    (tmp_path / "nodes.conf").write_bytes(THREE.replace(b"0-5460", b"1-5460"))
    keys = [b"k%d" % n for n in range(10 ** 5)]
    free = next(k for k in keys if key_slot(k) == 0)
    mine = next(k for k in keys if 1 <= key_slot(k) <= 5460)
    theirs = next(k for k in keys if key_slot(k) > 10922)
    state = opened(settings_in(tmp_path), SlotIndex([mine, free, theirs]))

    class Db:
        def __init__(self, size: int) -> None:
            self.size = size

        def __len__(self) -> int:
            return self.size

    warnings = state.verify_data([Db(3), Db(0)])
    assert warnings == [
        "I have keys for unassigned slot 0. Taking responsibility for it.",
        f"I have keys for slot {key_slot(theirs)}, but the slot is assigned to another node. "
        "Setting it to importing state.",
    ]
    assert state.slots[0] == A and state.importing == {key_slot(theirs): C}
    assert b"[%d-<-%s]" % (key_slot(theirs), C) in (tmp_path / "nodes.conf").read_bytes()
    with pytest.raises(ClusterStartError, match="^You can't have keys in a DB different than "
                                                "DB 0 when in Cluster mode. Exiting.$"):
        state.verify_data([Db(0), Db(1)])


def test_bump_epoch(tmp_path, opened):
    (tmp_path / "nodes.conf").write_bytes(THREE)
    state = opened(settings_in(tmp_path))
    assert state.bump_epoch() and state.myself.config_epoch == 4
    assert state.config.current_epoch == 4
    assert not state.bump_epoch() and state.myself.config_epoch == 4


def test_reset(tmp_path, opened):
    (tmp_path / "nodes.conf").write_bytes(THREE.replace(b"0-5460", b"0-5460 [7->-" + B + b"]"))
    state = opened(settings_in(tmp_path))
    state.reset(hard=False)
    assert list(state.config.nodes) == [A] and state.myself.config_epoch == 1
    assert state.slots.count(None) == 16384 and not state.migrating
    state.reset(hard=True)
    assert list(state.config.nodes) == [state.myself.id] != [A]
    assert state.myself.config_epoch == 0 and state.config.current_epoch == 0
