"""DUMP/RESTORE payloads: layout, Redis's RESTORE errors, and a fuzz of the loader."""

from __future__ import annotations

import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hush.core.errors import CommandError
from hush.formats import rdb
from hush.formats.crc64 import crc64
from hush.formats.rdb_payload import (
    BAD_DATA_FORMAT,
    PAYLOAD_VERSION_OR_CHECKSUM,
    dump_functions,
    dump_payload,
    function_sources,
    load_payload,
)

FUZZ = settings(max_examples=300, derandomize=True, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])

# DUMP of SADD s 1 2 3 in redis-server 7.0.15.
REDIS_SET_DUMP = bytes.fromhex("0b0e0200000003000000010002000300" "0a00a5025ce26d6e4d1b")


def seal(body: bytes, version: int = 10) -> bytes:
    head = body + struct.pack("<H", version)
    return head + struct.pack("<Q", crc64(head))


def test_redis_payload():
    assert load_payload(REDIS_SET_DUMP) == ("set", {b"1", b"2", b"3"})
    assert dump_payload("set", {b"3", b"1", b"2"}) == REDIS_SET_DUMP


@pytest.mark.parametrize("kind,value", [
    ("string", b"hello"),
    ("list", [b"a", b"1", b"b" * 100]),
    ("hash", {b"f": b"v"}),
    ("zset", [(b"m", 1.5)]),
    ("set", {b"x", b"y"}),
])
def test_round_trip(kind, value):
    assert load_payload(dump_payload(kind, value)) == (kind, value)


def error_of(payload: bytes, **kwargs) -> str:
    with pytest.raises(CommandError) as info:
        load_payload(payload, **kwargs)
    return info.value.message


def test_version_and_checksum_errors():
    good = dump_payload("string", b"v")
    assert error_of(good[:9]) == PAYLOAD_VERSION_OR_CHECKSUM
    assert error_of(good[:-1] + bytes([good[-1] ^ 1])) == PAYLOAD_VERSION_OR_CHECKSUM
    assert error_of(seal(b"\x00\x01v", version=11)) == PAYLOAD_VERSION_OR_CHECKSUM
    assert PAYLOAD_VERSION_OR_CHECKSUM == "ERR DUMP payload version or checksum are wrong"


def test_older_versions_are_accepted():
    assert load_payload(seal(b"\x00\x01v", version=6)) == ("string", b"v")


def test_skip_checksum_validation():
    payload = seal(b"\x00\x01v")[:-8] + b"\0" * 8
    assert error_of(payload) == PAYLOAD_VERSION_OR_CHECKSUM
    assert load_payload(payload, check_checksum=False) == ("string", b"v")


@pytest.mark.parametrize("body", [
    b"\x08\x00",             # not an object type
    b"\xfe\x00",             # an opcode is not an object type
    b"\x00\x0fab",           # a string longer than the whole payload
    b"\x02\x00",             # empty set: Redis refuses it in RESTORE
    b"\x07\x00",             # module value
    b"\x02\x02\x01a\x01a",   # duplicate members
])
def test_bad_data_format(body):
    assert error_of(seal(body)) == BAD_DATA_FORMAT
    assert BAD_DATA_FORMAT == "ERR Bad data format"


def test_object_may_read_into_the_footer_like_redis():
    # Redis reads the object from the whole payload: a string claiming more
    # bytes than the body has takes them from the version and checksum.
    payload = seal(b"\x00\x05ab")
    assert load_payload(payload) == ("string", b"ab" + payload[4:7])
    assert error_of(seal(b"\x00\x0fab")) == BAD_DATA_FORMAT


values = st.one_of(
    st.tuples(st.just("string"), st.binary(max_size=80)),
    st.tuples(st.just("list"), st.lists(st.binary(max_size=30), min_size=1, max_size=20)),
    st.tuples(st.just("set"), st.sets(st.one_of(st.binary(max_size=10),
                                                st.integers(-2**63, 2**63 - 1).map(lambda i: b"%d" % i)),
                                      min_size=1, max_size=20)),
    st.tuples(st.just("hash"), st.dictionaries(st.binary(max_size=10), st.binary(max_size=70),
                                               min_size=1, max_size=20)),
    st.tuples(st.just("zset"), st.dictionaries(
        st.binary(max_size=70), st.floats(allow_nan=False), min_size=1, max_size=20
    ).map(lambda d: sorted(d.items(), key=lambda p: (p[1], p[0])))),
)


@FUZZ
@given(values)
def test_fuzz_round_trip(kind_value):
    kind, value = kind_value
    decoded_kind, decoded = load_payload(dump_payload(kind, value))
    assert decoded_kind == kind
    if kind == "zset":
        # -0.0 and 0.0 are the same score
        assert [(m, s) for m, s in decoded] == [(m, s) for m, s in value]
    else:
        assert decoded == value


@FUZZ
@given(values, st.data())
def test_fuzz_corrupted_payloads_fail_cleanly(kind_value, data):
    payload = bytearray(dump_payload(*kind_value))
    body_end = len(payload) - 10
    for _ in range(data.draw(st.integers(1, 4))):
        pos = data.draw(st.integers(0, body_end - 1))
        payload[pos] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(1, body_end))
    body = bytes(payload[:cut])
    try:
        load_payload(seal(body))
    except CommandError as err:
        assert err.message == BAD_DATA_FORMAT


@FUZZ
@given(st.binary(max_size=200))
def test_fuzz_arbitrary_bytes(body):
    try:
        load_payload(seal(body))
    except CommandError as err:
        assert err.message == BAD_DATA_FORMAT
    try:
        load_payload(body)
    except CommandError as err:
        assert err.message in (BAD_DATA_FORMAT, PAYLOAD_VERSION_OR_CHECKSUM)


def test_module_payload_is_refused_with_the_format_error():
    with pytest.raises(CommandError, match="Bad data format"):
        load_payload(seal(bytes((rdb.TYPE_MODULE_2,)) + rdb.encode_length(5 << 10)))


# -- FUNCTION DUMP / RESTORE -------------------------------------------------------

# FUNCTION DUMP in redis-server 7.0.15 of this one library: its code is LZF-compressed.
LIBRARY = (b'#!lua name=mylib\nredis.register_function("myfunc", '
           b'function(keys, args) return args[1] end)')
REDIS_FUNCTION_DUMP = bytes.fromhex(
    "f5c34056405b1f23216c7561206e616d653d6d796c69620a72656469732e72656769737465725f0b66756e63"
    "74696f6e28226d79400b02222c2040066012116b6579732c2061726773292072657475726e600c075b315d20"
    "656e64290a00639983bd8b38b843")


def test_function_payload_is_redis_s():
    assert dump_functions([LIBRARY]) == REDIS_FUNCTION_DUMP
    assert list(function_sources(REDIS_FUNCTION_DUMP)) == [LIBRARY]
    assert dump_functions([]) == seal(b"")
    assert list(function_sources(seal(b""))) == []


def test_function_payload_of_redis_7_0_release_candidates():
    """FUNCTION records (rc1, rc2) hold name, engine, description and code apart."""
    body = (bytes((rdb.OPCODE_FUNCTION,)) + rdb.encode_string(b"old")
            + rdb.encode_string(b"LUA") + b"\x01" + rdb.encode_string(b"a description")
            + rdb.encode_string(b"redis.register_function('f', function() end)"))
    assert list(function_sources(seal(body))) == [
        b"#!LUA name=old\nredis.register_function('f', function() end)"]


@pytest.mark.parametrize("payload, text", [
    (b"short", "ERR " + PAYLOAD_VERSION_OR_CHECKSUM[4:]),
    (seal(b"", version=11), PAYLOAD_VERSION_OR_CHECKSUM),
    (REDIS_FUNCTION_DUMP[:-1] + b"\x00", PAYLOAD_VERSION_OR_CHECKSUM),
    (seal(b"\x00\x01a"), "ERR given type is not a function"),
    (seal(bytes((rdb.OPCODE_FUNCTION2,)) + b"\x7f"), "ERR Failed loading library payload"),
    (seal(bytes((rdb.OPCODE_FUNCTION,)) + b"\x7f"), "ERR Failed loading library name"),
])
def test_function_payload_errors(payload, text):
    with pytest.raises(CommandError) as caught:
        list(function_sources(payload))
    assert caught.value.message == text


def test_function_payload_yields_libraries_before_a_bad_record():
    """Redis creates each library as it reads it: an error later comes after them."""
    payload = seal(bytes((rdb.OPCODE_FUNCTION2,)) + rdb.encode_string(b"code") + b"\x00")
    sources = function_sources(payload)
    assert next(sources) == b"code"
    with pytest.raises(CommandError, match="given type is not a function"):
        next(sources)
