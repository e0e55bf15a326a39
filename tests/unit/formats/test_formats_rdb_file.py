"""dump.rdb files: writer and streaming reader, checksums, offsets in errors, fuzz."""

from __future__ import annotations

import io
import struct
import tracemalloc

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hush.formats import rdb
from hush.formats.crc64 import crc64
from hush.formats.rdb import RdbError
from hush.formats.rdb_file import (
    AuxRecord,
    FunctionRecord,
    KeyRecord,
    RdbFileReader,
    RdbFileWriter,
    ResizeDbRecord,
    SelectDbRecord,
)
from hush.formats.rdb_stream import ConsumerGroup, Stream

FUZZ = settings(max_examples=200, derandomize=True, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])

LIBRARY = b"#!lua name=mylib\nredis.register_function('f', function() return 1 end)"


def sample_file(checksum: bool = True, chunk_size: int = 1 << 20) -> bytes:
    out = io.BytesIO()
    writer = RdbFileWriter(out, chunk_size=chunk_size, checksum=checksum)
    writer.write_header(ctime=1_700_000_000, used_mem=123456)
    writer.write_function(LIBRARY)
    writer.select_db(0, 3, 1)
    writer.write_key(b"s", "string", b"hello", expire_ms=1_900_000_000_000)
    writer.write_key(b"l", "list", [b"x" * 100, b"1"], lru_idle=42)
    writer.write_key(b"h", "hash", {b"f": b"v"}, lfu_freq=5)
    writer.select_db(3, 1, 0)
    writer.write_key(b"st", "stream", Stream(groups=[ConsumerGroup(b"g", (0, 0), 0)]))
    writer.finish()
    return out.getvalue()


def records(data: bytes, chunk_size: int = 1 << 20) -> list:
    return list(RdbFileReader(io.BytesIO(data), chunk_size=chunk_size))


def test_header_and_aux_fields_like_redis():
    data = sample_file()
    assert data.startswith(b"REDIS0010\xfa\x09redis-ver\x067.0.15\xfa\x0aredis-bits\xc0\x40")
    recs = records(data)
    assert recs[:5] == [
        AuxRecord(b"redis-ver", b"7.0.15"),
        AuxRecord(b"redis-bits", b"64"),
        AuxRecord(b"ctime", b"1700000000"),
        AuxRecord(b"used-mem", b"123456"),
        AuxRecord(b"aof-base", b"0"),
    ]


def test_round_trip_of_every_record():
    recs = records(sample_file())[5:]
    assert recs[0] == FunctionRecord(LIBRARY)
    assert recs[1:3] == [SelectDbRecord(0), ResizeDbRecord(3, 1)]
    assert recs[3] == KeyRecord(0, b"s", "string", b"hello", expire_ms=1_900_000_000_000,
                                rdb_type=rdb.TYPE_STRING)
    assert recs[4] == KeyRecord(0, b"l", "list", [b"x" * 100, b"1"], lru_idle=42,
                                rdb_type=rdb.TYPE_LIST_QUICKLIST_2)
    assert recs[5] == KeyRecord(0, b"h", "hash", {b"f": b"v"}, lfu_freq=5, rdb_type=rdb.TYPE_HASH_LISTPACK)
    assert recs[6:8] == [SelectDbRecord(3), ResizeDbRecord(1, 0)]
    assert recs[8].db == 3 and recs[8].kind == "stream" and recs[8].value.groups[0].name == b"g"
    assert len(recs) == 9


@pytest.mark.parametrize("chunk_size", [1, 7, 64])
def test_reading_in_small_chunks_gives_the_same_records(chunk_size):
    data = sample_file()
    reader = RdbFileReader(io.BytesIO(data), chunk_size=chunk_size)
    assert list(reader) == records(data)
    assert reader.checksum_verified


@pytest.mark.parametrize("chunk_size", [1, 10, 1 << 20])
def test_writer_chunks_do_not_change_the_file(chunk_size):
    assert sample_file(chunk_size=chunk_size) == sample_file()


def test_checksum_is_verified():
    data = bytearray(sample_file())
    data[-1] ^= 0xFF
    with pytest.raises(RdbError) as info:
        records(bytes(data))
    assert info.value.reason == "RDB CRC error"
    assert info.value.offset == len(data) - 8


def test_corrupt_byte_in_a_value_fails_the_checksum():
    data = bytearray(sample_file())
    pos = data.index(b"hello")
    data[pos] = ord("j")
    with pytest.raises(RdbError, match="RDB CRC error"):
        records(bytes(data))


def test_checksum_zero_means_disabled():
    data = sample_file(checksum=False)
    assert data.endswith(b"\0" * 8)
    reader = RdbFileReader(io.BytesIO(data))
    assert len(list(reader)) == 14
    assert not reader.checksum_verified


def test_truncated_file_names_the_offset():
    data = sample_file()
    for cut in (5, 20, len(data) // 2, len(data) - 9, len(data) - 3):
        with pytest.raises(rdb.Truncated) as info:
            records(data[:cut], chunk_size=16)
        assert info.value.offset == cut
        assert "Unexpected EOF reading RDB file" in str(info.value)
        assert f"offset {cut}" in str(info.value)


def test_bad_signature_and_version():
    with pytest.raises(RdbError, match="Wrong signature"):
        records(b"RADIS0010\xff" + b"\0" * 8)
    with pytest.raises(RdbError, match="Can't handle RDB format version 0011"):
        records(b"REDIS0011\xff" + b"\0" * 8)


def test_old_version_without_checksum_and_second_expiry():
    data = b"REDIS0004\xfe\x00\xfd" + struct.pack("<i", 1_800_000_000) + b"\x00\x01k\x01v\xff"
    assert records(data) == [SelectDbRecord(0), KeyRecord(0, b"k", "string", b"v",
                                                          expire_ms=1_800_000_000_000)]


def seal(body: bytes) -> bytes:
    head = b"REDIS0010" + body + b"\xff"
    return head + struct.pack("<Q", crc64(head))


def test_empty_keys_are_skipped_and_their_expiry_forgotten():
    body = b"\xfc" + rdb.encode_ms_time(5) + b"\x02\x01e\x00" + b"\x00\x01k\x01v"
    assert records(seal(body)) == [KeyRecord(0, b"k", "string", b"v")]


def test_old_function_record():
    body = b"\xf6\x05mylib\x03LUA\x01\x04desc\x05code!"
    assert records(seal(body)) == [FunctionRecord(b"#!LUA name=mylib\ncode!")]


def test_module_aux_is_refused():
    body = b"\xf7" + rdb.encode_length(0x55 << 10) + b"\x02\x02"
    with pytest.raises(RdbError) as info:
        records(seal(body))
    assert "AUX module data I can't load" in info.value.reason
    assert info.value.offset == 9 + 1 + 5  # just after the 5-byte module id


def test_unknown_opcode_names_its_offset():
    with pytest.raises(RdbError) as info:
        records(seal(b"\xfe\x00\x14\x01k"))
    assert info.value.reason == "Unknown RDB encoding type 20"
    assert info.value.offset == 11


def test_large_record_across_many_chunks():
    out = io.BytesIO()
    writer = RdbFileWriter(out, chunk_size=1000)
    writer.write_header(ctime=0, used_mem=0)
    writer.select_db(0, 1, 0)
    items = [b"item-%06d" % i for i in range(20000)]
    writer.write_key(b"big", "list", items)
    writer.finish()
    recs = list(RdbFileReader(io.BytesIO(out.getvalue()), chunk_size=4096))
    assert recs[-1].value == items


@FUZZ
@given(st.data())
def test_fuzz_corrupted_files_fail_cleanly_and_boundedly(data):
    original = sample_file()
    blob = bytearray(original)
    for _ in range(data.draw(st.integers(1, 6))):
        pos = data.draw(st.integers(0, len(blob) - 1))
        blob[pos] = data.draw(st.integers(0, 255))
    blob = bytes(blob[:data.draw(st.integers(1, len(blob)))])
    chunk = data.draw(st.sampled_from([3, 64, 1 << 20]))
    tracemalloc.start()
    try:
        list(RdbFileReader(io.BytesIO(blob), chunk_size=chunk))
    except RdbError:
        pass
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    # Nothing read from the input allocates more than LZF's expansion ratio allows.
    assert peak < 100 * len(original) + (2 << 20)


@FUZZ
@given(st.binary(max_size=300))
def test_fuzz_arbitrary_bodies(body):
    try:
        list(RdbFileReader(io.BytesIO(seal(body)), chunk_size=16))
    except RdbError:
        pass
