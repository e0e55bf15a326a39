"""Time to live: lazy and active expiry over one timer, driven by task.Clock."""

from __future__ import annotations

import pytest

from hush.data.expiry import MAX_PER_RUN
from hush.data.store import Store


@pytest.fixture
def databases() -> int:
    """Four databases: tests go through each of them."""
    return 4


def timers(store: Store) -> list:
    """The store owns the clock, so every delayed call on it is Hush's."""
    return store.clock.getDelayedCalls()


def set_with_ttl(db, key: bytes, ms: int) -> None:
    db.set(key, b"v")
    db.set_expire(key, db.store.now_ms() + ms)


def jump(store: Store, seconds: float) -> None:
    """Move time without running timers, to see lazy expiry on its own."""
    store.clock.rightNow += seconds


def test_lazy_expiry_on_access(store, db):
    set_with_ttl(db, b"k", 100)
    jump(store, 0.099)
    assert db.get(b"k") == b"v"
    jump(store, 0.001)
    assert b"k" in db.data  # still there: nothing looked
    assert db.get(b"k") is None
    assert b"k" not in db.data and b"k" not in db.expires
    assert store.stats.expired_keys == 1


@pytest.mark.parametrize(
    "look",
    [
        lambda db: db.exists(b"k"),
        lambda db: db.peek(b"k"),
        lambda db: db.get_string(b"k"),
        lambda db: db.delete(b"k"),
        lambda db: db.pop_value(b"k"),
        lambda db: db.keys(),
    ],
    ids=["exists", "peek", "get_string", "delete", "pop_value", "keys"],
)
def test_every_lookup_expires_lazily(store, db, look):
    set_with_ttl(db, b"k", 10)
    jump(store, 1)
    look(db)
    assert b"k" not in db.data
    assert store.stats.expired_keys == 1
    assert not db.exists(b"k")


def test_set_over_an_expired_key_creates_it_anew(store, db):
    set_with_ttl(db, b"k", 10)
    jump(store, 1)
    db.set(b"k", b"new")
    assert db.get(b"k") == b"new"
    assert db.get_expire(b"k") is None
    assert store.stats.expired_keys == 1


def test_active_expiry_without_access(store, db):
    set_with_ttl(db, b"a", 1000)
    set_with_ttl(db, b"b", 2000)
    store.clock.advance(1.0)
    assert db.key_list() == [b"b"]
    assert store.stats.expired_keys == 1
    store.clock.advance(1.0)
    assert len(db) == 0
    assert store.stats.expired_keys == 2
    assert timers(store) == []


def test_one_timer_for_many_keys(store):
    for index in range(4):
        for i in range(500):
            set_with_ttl(store.dbs[index], b"k%d" % i, 1 + (i * 37) % 5000)
            assert len(timers(store)) <= 1
    assert len(timers(store)) == 1
    for _ in range(60):
        store.clock.advance(0.1)
        assert len(timers(store)) <= 1
    assert all(len(db) == 0 for db in store.dbs)
    assert store.stats.expired_keys == 2000
    assert timers(store) == []


def test_timer_moves_to_an_earlier_deadline(store, db):
    set_with_ttl(db, b"late", 10_000)
    (timer,) = timers(store)
    assert timer.getTime() == pytest.approx(store.clock.seconds() + 10)
    set_with_ttl(db, b"early", 500)
    (timer,) = timers(store)
    assert timer.getTime() == pytest.approx(store.clock.seconds() + 0.5)
    store.clock.advance(0.5)
    assert db.key_list() == [b"late"]
    (timer,) = timers(store)
    assert timer.getTime() == pytest.approx(store.clock.seconds() + 9.5)


def test_persist_keeps_the_key(store, db):
    set_with_ttl(db, b"k", 100)
    assert db.persist(b"k") is True
    assert db.persist(b"k") is False
    store.clock.advance(1)
    assert db.get(b"k") == b"v"
    assert store.stats.expired_keys == 0


def test_set_drops_the_ttl_unless_keep_ttl(store, db):
    set_with_ttl(db, b"k", 100)
    db.set(b"k", b"w", keep_ttl=True)
    assert db.get_expire(b"k") == store.now_ms() + 100
    db.set(b"k", b"x")
    assert db.get_expire(b"k") is None
    store.clock.advance(1)
    assert db.get(b"k") == b"x"


def test_a_stale_deadline_does_not_expire_a_new_key(store, db):
    set_with_ttl(db, b"k", 100)
    db.delete(b"k")
    set_with_ttl(db, b"k", 5000)
    store.clock.advance(1)
    assert db.get(b"k") == b"v"
    store.clock.advance(4)
    assert db.get(b"k") is None
    assert store.stats.expired_keys == 1


def test_lengthened_ttl_is_honoured(store, db):
    set_with_ttl(db, b"k", 100)
    db.set_expire(b"k", store.now_ms() + 3000)
    store.clock.advance(1)
    assert db.exists(b"k")
    store.clock.advance(2)
    assert not db.exists(b"k")


def test_rewriting_ttls_keeps_the_heap_bounded(store, db):
    for i in range(100):
        db.set(b"k%d" % i, b"v")
    for round_ in range(1000):
        for i in range(100):
            db.set_expire(b"k%d" % i, store.now_ms() + 60_000 + round_)
    # 100 live deadlines rewritten 100,000 times: compaction keeps the
    # entries near its trigger size, never near the number of rewrites.
    assert store.expiry.entries <= 2 * 1024 + 100
    assert len(store.expiry._heap) <= 1000
    assert len(timers(store)) == 1
    store.clock.advance(61 + 1)
    assert len(db) == 0
    assert store.stats.expired_keys == 100


def test_compaction_keeps_current_deadlines(store, db):
    set_with_ttl(db, b"keep", 1000)
    db.set(b"churn", b"v")
    for i in range(3000):
        db.set_expire(b"churn", store.now_ms() + 100_000 + i)
    store.expiry.compact()
    assert len(store.expiry._heap) == 2 and store.expiry.entries == 2
    store.clock.advance(1)
    assert not db.exists(b"keep")
    assert db.exists(b"churn")


def run_timer_once(store: Store) -> None:
    """Fire the one due timer alone, as a reactor does between other events.

    (Clock.advance would also run the zero-delay timer the run re-arms.)
    """
    (call,) = timers(store)
    assert call.getTime() <= store.clock.seconds()
    store.clock.calls.remove(call)
    call.func(*call.args, **call.kw)


def test_mass_expiry_is_spread_over_runs(store, db):
    count = MAX_PER_RUN * 2 + 10
    for i in range(count):
        set_with_ttl(db, b"k%d" % i, 1000)
    jump(store, 1)
    # One run expires at most MAX_PER_RUN keys, then re-arms for now, so the
    # reactor serves clients between runs.
    run_timer_once(store)
    assert len(db) == count - MAX_PER_RUN
    assert timers(store)[0].getTime() == store.clock.seconds()
    run_timer_once(store)
    assert len(db) == count - 2 * MAX_PER_RUN
    run_timer_once(store)
    assert len(db) == 0
    assert store.stats.expired_keys == count
    assert timers(store) == []


def test_expired_keys_counts_lazy_and_active(store, db):
    set_with_ttl(db, b"lazy", 100)
    set_with_ttl(db, b"active", 100)
    jump(store, 1)
    assert db.get(b"lazy") is None
    assert store.stats.expired_keys == 1
    store.clock.advance(0)
    assert store.stats.expired_keys == 2
    assert len(db) == 0


def test_deleted_keys_are_not_counted_as_expired(store, db):
    set_with_ttl(db, b"k", 100)
    db.delete(b"k")
    store.clock.advance(1)
    assert store.stats.expired_keys == 0


def test_expiry_in_every_database(store):
    for db in store.dbs:
        set_with_ttl(db, b"k", 100 * (db.index + 1))
    store.clock.advance(0.25)
    assert [len(db) for db in store.dbs] == [0, 0, 1, 1]
    store.clock.advance(1)
    assert [len(db) for db in store.dbs] == [0, 0, 0, 0]


def test_swapdb_keeps_deadlines(store):
    set_with_ttl(store.dbs[1], b"k", 500)
    store.swapdb(1, 2)
    store.clock.advance(0.5)
    assert not store.dbs[2].exists(b"k")
    assert store.stats.expired_keys == 1


def test_stop_cancels_the_timer(store, db):
    set_with_ttl(db, b"k", 100)
    store.stop()
    assert timers(store) == []


def test_flushall_forgets_deadlines(store, db):
    set_with_ttl(db, b"k", 100)
    store.flushall()
    assert timers(store) == []
    db.set(b"k", b"v")
    store.clock.advance(1)
    assert db.get(b"k") == b"v"


def test_keys_of_one_millisecond_share_an_entry(store):
    for i in range(100):
        set_with_ttl(store.dbs[0], b"k%d" % i, 1000)
    set_with_ttl(store.dbs[1], b"other", 1000)
    expiry = store.expiry
    assert [len(due) for due in expiry._due[:2]] == [1, 1]
    assert expiry.entries == 101 and len(expiry._heap) == 2
    store.clock.advance(1)
    assert len(store.dbs[0]) == len(store.dbs[1]) == 0
    assert expiry.entries == 0 and expiry._heap == []


def test_a_run_cut_short_between_databases_finishes_later(store, monkeypatch):
    monkeypatch.setattr("hush.data.expiry.MAX_PER_RUN", 3)
    for i in range(3):
        set_with_ttl(store.dbs[0], b"k%d" % i, 100)
    for i in range(2):
        set_with_ttl(store.dbs[2], b"k%d" % i, 100)
    store.expiry.compact()    # the deadline is in the heap once, for both
    assert len(store.expiry._heap) == 1
    jump(store, 1)
    run_timer_once(store)
    assert [len(db) for db in store.dbs] == [0, 0, 2, 0]
    run_timer_once(store)
    assert [len(db) for db in store.dbs] == [0, 0, 0, 0]
    assert timers(store) == []


def test_keys_given_one_deadline_share_its_int(store, db):
    for i in range(3):
        # A new int each time, as a command computes it.
        db.set(b"k%d" % i, b"v")
        db.set_expire(b"k%d" % i, int(str(store.now_ms() + 5000)))
    first, second, third = (db.expires[b"k%d" % i] for i in range(3))
    assert first is second is third
