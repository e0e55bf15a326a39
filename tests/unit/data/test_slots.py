"""hush.data.slots: database 0's keys by hash slot, kept by every way a key comes and goes."""

from __future__ import annotations

from hush.data.slots import SlotIndex
from hush.formats.keyslot import key_slot

TAG = key_slot(b"tag")


def test_keys_are_counted_and_listed_newest_first():
    index = SlotIndex([b"{tag}a", b"{tag}b"])
    index.add(b"{tag}c")
    assert index.count(TAG) == 3
    assert index.keys(TAG, 10) == [b"{tag}c", b"{tag}b", b"{tag}a"]
    assert index.keys(TAG, 2) == [b"{tag}c", b"{tag}b"]
    assert index.keys(TAG, 0) == []
    assert index.count(TAG + 1) == 0 and index.keys(TAG + 1, 5) == []
    assert len(index) == 3


def test_removing_the_last_key_empties_the_slot():
    index = SlotIndex([b"{tag}a"])
    index.remove(b"{tag}a")
    index.remove(b"{tag}never")
    assert index.count(TAG) == 0 and index.by_slot == {}


def test_off_by_default_and_fed_by_the_database_once_on(store, db):
    db.set(b"before", b"1")
    assert db.slots is None
    index = store.index_slots()
    assert db.slots is index and index.count(key_slot(b"before")) == 1
    assert store.dbs[1].slots is None


def test_every_write_path_reports(store, db):
    index = store.index_slots()
    db.set(b"{tag}a", b"1")
    db.set(b"{tag}a", b"2")             # an overwrite adds nothing
    db.set(b"{tag}b", b"1")
    db.set(b"{tag}c", b"1")
    assert index.count(TAG) == 3
    db.delete(b"{tag}a")
    assert db.pop_value(b"{tag}b") == b"1"
    assert index.keys(TAG, 10) == [b"{tag}c"]
    db.set_expire(b"{tag}c", store.now_ms() + 1000)
    store.clock.advance(2)
    assert db.get(b"{tag}c") is None     # lazily expired
    assert index.count(TAG) == 0
    db.set(b"{tag}d", b"1")
    db.clear()
    assert index.count(TAG) == 0 and len(index) == 0


def test_eviction_reports(store, db):
    index = store.index_slots()
    store.maxkeys = 2
    for key in (b"{tag}a", b"{tag}b", b"{tag}c"):
        db.set(key, b"1")
    assert db.key_list() == [b"{tag}b", b"{tag}c"]
    assert index.keys(TAG, 10) == [b"{tag}c", b"{tag}b"]


def test_active_expiry_reports(store, db):
    index = store.index_slots()
    db.set(b"{tag}a", b"1")
    db.set_expire(b"{tag}a", store.now_ms() + 500)
    store.clock.advance(1)
    assert b"{tag}a" not in db.data
    assert index.count(TAG) == 0
