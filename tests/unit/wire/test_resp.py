"""Reply encoding: every reply value in RESP2 and RESP3, byte for byte."""

from __future__ import annotations

import hiredis
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hush.core.errors import CommandError
from hush.wire.resp import (
    NULL_ARRAY,
    OK,
    PONG,
    QUEUED,
    Bulks,
    DoubleText,
    Push,
    RespMap,
    RespSet,
    SimpleString,
    Verbatim,
    encode,
    encode_each_into,
    encode_into,
    encode_ints_into,
    error_bytes,
    format_double,
)

# (value, RESP2 bytes, RESP3 bytes)
CASES = [
    (b"foo", b"$3\r\nfoo\r\n", b"$3\r\nfoo\r\n"),
    (b"", b"$0\r\n\r\n", b"$0\r\n\r\n"),
    (b"a\r\nb\x00", b"$5\r\na\r\nb\x00\r\n", b"$5\r\na\r\nb\x00\r\n"),
    ("héllo", b"$6\r\nh\xc3\xa9llo\r\n", b"$6\r\nh\xc3\xa9llo\r\n"),
    (OK, b"+OK\r\n", b"+OK\r\n"),
    (PONG, b"+PONG\r\n", b"+PONG\r\n"),
    (QUEUED, b"+QUEUED\r\n", b"+QUEUED\r\n"),
    (SimpleString(b"OK"), b"+OK\r\n", b"+OK\r\n"),
    (SimpleString(b"string"), b"+string\r\n", b"+string\r\n"),
    # A double Redis prints itself (GEOPOS): its text, as a bulk or a double.
    (DoubleText(b"13.36138933897018433"), b"$20\r\n13.36138933897018433\r\n",
     b",13.36138933897018433\r\n"),
    ([DoubleText(b"1"), DoubleText(b"-0.5")] * 4, b"*8\r\n" + b"$1\r\n1\r\n$4\r\n-0.5\r\n" * 4,
     b"*8\r\n" + b",1\r\n,-0.5\r\n" * 4),
    (0, b":0\r\n", b":0\r\n"),
    (1023, b":1023\r\n", b":1023\r\n"),
    (1024, b":1024\r\n", b":1024\r\n"),
    (-1, b":-1\r\n", b":-1\r\n"),
    (-2, b":-2\r\n", b":-2\r\n"),
    (2**63 - 1, b":9223372036854775807\r\n", b":9223372036854775807\r\n"),
    (-(2**63), b":-9223372036854775808\r\n", b":-9223372036854775808\r\n"),
    (True, b":1\r\n", b"#t\r\n"),
    (False, b":0\r\n", b"#f\r\n"),
    (1.5, b"$3\r\n1.5\r\n", b",1.5\r\n"),
    (0.1, b"$19\r\n0.10000000000000001\r\n", b",0.10000000000000001\r\n"),
    (3.0, b"$1\r\n3\r\n", b",3\r\n"),
    (-0.5, b"$4\r\n-0.5\r\n", b",-0.5\r\n"),
    (1e21, b"$5\r\n1e+21\r\n", b",1e+21\r\n"),
    (float("inf"), b"$3\r\ninf\r\n", b",inf\r\n"),
    (float("-inf"), b"$4\r\n-inf\r\n", b",-inf\r\n"),
    (float("nan"), b"$3\r\nnan\r\n", b",nan\r\n"),
    (None, b"$-1\r\n", b"_\r\n"),
    (NULL_ARRAY, b"*-1\r\n", b"_\r\n"),
    ([], b"*0\r\n", b"*0\r\n"),
    ([b"a", 1, None], b"*3\r\n$1\r\na\r\n:1\r\n$-1\r\n", b"*3\r\n$1\r\na\r\n:1\r\n_\r\n"),
    ((b"a", b"b"), b"*2\r\n$1\r\na\r\n$1\r\nb\r\n", b"*2\r\n$1\r\na\r\n$1\r\nb\r\n"),
    ([[b"x"], []], b"*2\r\n*1\r\n$1\r\nx\r\n*0\r\n", b"*2\r\n*1\r\n$1\r\nx\r\n*0\r\n"),
    (RespSet([b"a", b"b"]), b"*2\r\n$1\r\na\r\n$1\r\nb\r\n", b"~2\r\n$1\r\na\r\n$1\r\nb\r\n"),
    (RespSet(), b"*0\r\n", b"~0\r\n"),
    ({b"k": b"v", b"n": 1}, b"*4\r\n$1\r\nk\r\n$1\r\nv\r\n$1\r\nn\r\n:1\r\n",
     b"%2\r\n$1\r\nk\r\n$1\r\nv\r\n$1\r\nn\r\n:1\r\n"),
    ({}, b"*0\r\n", b"%0\r\n"),
    (RespMap([(b"k", 1.5), (b"k", None)]), b"*4\r\n$1\r\nk\r\n$3\r\n1.5\r\n$1\r\nk\r\n$-1\r\n",
     b"%2\r\n$1\r\nk\r\n,1.5\r\n$1\r\nk\r\n_\r\n"),
    (Push([b"message", b"ch", b"hi"]), b"*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n",
     b">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n"),
    (Verbatim(b"# Server\r\n"), b"$10\r\n# Server\r\n\r\n", b"=14\r\ntxt:# Server\r\n\r\n"),
    (CommandError("ERR boom"), b"-ERR boom\r\n", b"-ERR boom\r\n"),
    (CommandError("WRONGTYPE Operation against a key holding the wrong kind of value"),
     b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
     b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
    (CommandError("ERR a\r\nb\nc"), b"-ERR a  b c\r\n", b"-ERR a  b c\r\n"),
    ([CommandError("ERR in array"), OK], b"*2\r\n-ERR in array\r\n+OK\r\n",
     b"*2\r\n-ERR in array\r\n+OK\r\n"),
    ({b"m": {b"inner": RespSet([True])}},
     b"*2\r\n$1\r\nm\r\n*2\r\n$5\r\ninner\r\n*1\r\n:1\r\n",
     b"%1\r\n$1\r\nm\r\n%1\r\n$5\r\ninner\r\n~1\r\n#t\r\n"),
]


@pytest.mark.parametrize(("value", "resp2", "resp3"), CASES, ids=[repr(c[0])[:30] for c in CASES])
def test_encoding(value, resp2, resp3):
    assert encode(value) == resp2
    assert encode(value, resp3=False) == resp2
    assert encode(value, resp3=True) == resp3


@pytest.mark.parametrize(("value", "resp2", "resp3"), CASES, ids=[repr(c[0])[:30] for c in CASES])
def test_encodings_are_valid_resp(value, resp2, resp3):
    # A real RESP reader reads each encoding as exactly one reply: the probe
    # after it comes out next, whole.
    for data in (resp2, resp3):
        reader = hiredis.Reader()
        reader.feed(data + b":7\r\n")
        reader.gets()
        assert reader.gets() == 7
        assert reader.gets() is False


def test_encode_into_appends():
    out: list[bytes] = [b"before"]
    encode_into(out, [b"a", 1], False)
    encode_into(out, OK, True)
    assert b"".join(out) == b"before*2\r\n$1\r\na\r\n:1\r\n+OK\r\n"


def test_unknown_type_is_refused():
    with pytest.raises(TypeError):
        encode(object())
    with pytest.raises(TypeError):
        encode([b"ok", {1, 2}])


def test_error_bytes():
    assert error_bytes("ERR Protocol error: invalid bulk length") == (
        b"-ERR Protocol error: invalid bulk length\r\n"
    )
    assert error_bytes("ERR two\nlines") == b"-ERR two lines\r\n"
    assert error_bytes("ERR caf\u00e9") == b"-ERR caf\xc3\xa9\r\n"


@pytest.mark.parametrize(
    ("value", "text"),
    [(1.0, b"1"), (0.1, b"0.10000000000000001"), (-2.5, b"-2.5"), (1e21, b"1e+21"),
     (float("inf"), b"inf"), (float("-inf"), b"-inf"), (float("nan"), b"nan")],
)
def test_format_double(value, text):
    assert format_double(value) == text


# Values hiredis gives back unchanged from RESP2: bulk strings, ints, None, arrays.
resp2_values = st.recursive(
    st.binary(max_size=20) | st.integers(-(2**63), 2**63 - 1) | st.none(),
    lambda inner: st.lists(inner, max_size=4),
    max_leaves=20,
)


@given(value=resp2_values)
def test_resp2_round_trip(value):
    reader = hiredis.Reader()
    reader.feed(encode(value))
    assert reader.gets() == value


@given(value=st.dictionaries(st.binary(max_size=8), st.binary(max_size=8), max_size=5))
def test_resp3_map_round_trip(value):
    reader = hiredis.Reader()
    reader.feed(encode(value, resp3=True))
    assert reader.gets() == value
    reader.feed(encode(value, resp3=False))
    flat = [item for pair in value.items() for item in pair]
    assert reader.gets() == flat


def test_resp_encodes_runs_of_bulks_ints_and_nulls():
    for resp3, null in ((False, b"$-1\r\n"), (True, b"_\r\n")):
        values = [b"a", None, b"", b"x" * 5000] + [b"b", None] * 4
        out: list[bytes] = []
        encode_each_into(out, values, resp3)
        expected = (b"$1\r\na\r\n" + null + b"$0\r\n\r\n" + b"$5000\r\n" + b"x" * 5000
                    + b"\r\n" + (b"$1\r\nb\r\n" + null) * 4)
        assert b"".join(out) == expected
        out = []
        encode_each_into(out, [b"a", None] * 4, resp3)
        assert b"".join(out) == (b"$1\r\na\r\n" + null) * 4
    out = []
    encode_ints_into(out, [0, -1, 1023, 1 << 40])
    assert b"".join(out) == b":0\r\n:-1\r\n:1023\r\n:1099511627776\r\n"


def test_bulks_encode_as_an_array_of_bulk_strings_whatever_they_hold():
    for items in ([b"a"] * 20, [b"", b"x" * 5000] * 5, [b"a"] * 3,
                  # Not exact bytes after all: each item is encoded its own way.
                  [b"a"] * 9 + [7], [b"a"] * 9 + [None]):
        for resp3 in (False, True):
            assert encode(Bulks(items), resp3) == encode(list(items), resp3)
