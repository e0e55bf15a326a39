"""Request parsing: both parsers, Redis's protocol errors and limits, linear cost."""

from __future__ import annotations

import tracemalloc

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hush.wire.parser import (
    DEFAULT_MAX_BULK_LEN,
    DEFAULT_MAX_MULTIBULK_LEN,
    INLINE_MAX_SIZE,
    FastParser,
    RequestParser,
    split_inline,
)
from tests.support import encode_command
from tests.unit.wire.feeding import damage, feed_chunks, split_at

PARSERS = [RequestParser, FastParser]
parser_classes = pytest.mark.parametrize("parser_class", PARSERS, ids=["exact", "fast"])

argvs = st.lists(st.binary(max_size=40), min_size=1, max_size=6)
pipelines = st.lists(argvs, min_size=1, max_size=8)


def encode(argv: list[bytes]) -> bytes:
    return encode_command(*argv)


# -- round trips ------------------------------------------------------------


# pytest-twisted wraps a @given test's inner function once per test item, so a
# parametrized @given test nests the wrappers and fails: the hypothesis tests
# loop over the parsers instead.


@given(argv=argvs)
def test_round_trip_one_command(argv):
    for parser_class in PARSERS:
        assert parser_class().feed(encode(argv)) == ([argv], None)


@given(commands=pipelines)
def test_round_trip_pipeline(commands):
    data = b"".join(map(encode, commands))
    for parser_class in PARSERS:
        assert parser_class().feed(data) == (commands, None)


@given(commands=pipelines, data=st.data())
def test_random_splits_give_the_same_commands(commands, data):
    stream = b"".join(map(encode, commands))
    offsets = data.draw(st.lists(st.integers(1, max(1, len(stream) - 1)), max_size=10))
    for parser_class in PARSERS:
        assert feed_chunks(parser_class(), split_at(stream, offsets)) == (commands, None)


MIXED_PIPELINE = (
    encode([b"SET", b"key", b"binary\r\n\x00value"])
    + b"PING\r\n"
    + b"*0\r\n"
    + b'ECHO "quoted arg" \'single\'\n'
    + encode([b"GET", b"key"])
    + b"*-1\r\n"
    + b"\r\n"
    + encode([b"MSET", b"a" * 100, b"", b"c", b"d" * 300])
)
MIXED_COMMANDS = [
    [b"SET", b"key", b"binary\r\n\x00value"],
    [b"PING"],
    [b"ECHO", b"quoted arg", b"single"],
    [b"GET", b"key"],
    [b"MSET", b"a" * 100, b"", b"c", b"d" * 300],
]


@parser_classes
def test_every_split_offset_of_a_pipeline(parser_class):
    assert parser_class().feed(MIXED_PIPELINE) == (MIXED_COMMANDS, None)
    for offset in range(1, len(MIXED_PIPELINE)):
        chunks = [MIXED_PIPELINE[:offset], MIXED_PIPELINE[offset:]]
        assert feed_chunks(parser_class(), chunks) == (MIXED_COMMANDS, None), offset


@parser_classes
def test_byte_by_byte(parser_class):
    chunks = [MIXED_PIPELINE[i : i + 1] for i in range(len(MIXED_PIPELINE))]
    assert feed_chunks(parser_class(), chunks) == (MIXED_COMMANDS, None)


def test_large_bulk_in_many_reads():
    value = bytes(range(256)) * 4096  # 1 MiB, above the chunked-gathering threshold
    stream = encode([b"SET", b"k", value]) + encode([b"GET", b"k"])
    chunks = [stream[i : i + 4096] for i in range(0, len(stream), 4096)]
    for parser_class in PARSERS:
        parser = parser_class()
        commands, error = feed_chunks(parser, chunks)
        assert error is None
        assert commands == [[b"SET", b"k", value], [b"GET", b"k"]]
        assert parser.buffered == 0


def test_buffered_counts_the_unfinished_request():
    parser = RequestParser()
    assert parser.idle
    parser.feed(b"*2\r\n$3\r\nGET\r\n$5\r\nab")
    assert not parser.idle
    assert parser.buffered >= len(b"GET") + len(b"ab")
    parser.feed(b"cde\r\n")
    assert parser.idle
    assert parser.buffered == 0


# -- the two parsers agree, on good and bad input -----------------------------


@given(commands=pipelines, data=st.data())
@settings(max_examples=300)
def test_parsers_agree_on_damaged_streams(commands, data):
    stream = damage(b"".join(map(encode, commands)), data.draw)
    offsets = data.draw(st.lists(st.integers(1, max(1, len(stream) - 1)), max_size=3))
    chunks = split_at(stream, offsets)
    assert feed_chunks(FastParser(), chunks) == feed_chunks(RequestParser(), chunks)


@given(stream=st.binary(max_size=200))
def test_parsers_agree_on_arbitrary_bytes(stream):
    assert FastParser().feed(stream) == RequestParser().feed(stream)


def test_fast_parser_falls_back_after_a_non_command_frame():
    # hiredis would accept these frames; the exact parser must decide.
    for stream in [b"*1\r\n:5\r\n", b"*1\r\n*1\r\n$1\r\na\r\n", b"*1\r\n+OK\r\n"]:
        assert FastParser().feed(stream) == RequestParser().feed(stream)
        assert FastParser().feed(stream)[1] == "ERR Protocol error: expected '$', got '%s'" % (
            chr(stream[4])
        )


# -- protocol errors, with Redis's texts --------------------------------------

PROTOCOL_ERRORS = [
    (b"*abc\r\n", "ERR Protocol error: invalid multibulk length"),
    (b"*01\r\n", "ERR Protocol error: invalid multibulk length"),
    (b"*+1\r\n", "ERR Protocol error: invalid multibulk length"),
    (b"* 1\r\n", "ERR Protocol error: invalid multibulk length"),
    (b"*%d\r\n" % (DEFAULT_MAX_MULTIBULK_LEN + 1), "ERR Protocol error: invalid multibulk length"),
    (b"*1\r\nx3\r\n", "ERR Protocol error: expected '$', got 'x'"),
    (b"*2\r\n$1\r\na\r\n:1\r\n", "ERR Protocol error: expected '$', got ':'"),
    (b"*1\r\n$abc\r\n", "ERR Protocol error: invalid bulk length"),
    (b"*1\r\n$-1\r\n", "ERR Protocol error: invalid bulk length"),
    (b"*1\r\n$+1\r\n", "ERR Protocol error: invalid bulk length"),
    (b"*1\r\n$01\r\n", "ERR Protocol error: invalid bulk length"),
    (b"*1\r\n$%d\r\n" % (DEFAULT_MAX_BULK_LEN + 1), "ERR Protocol error: invalid bulk length"),
    (b"*" + b"1" * (INLINE_MAX_SIZE + 1), "ERR Protocol error: too big mbulk count string"),
    (b"*1\r\n$" + b"1" * (INLINE_MAX_SIZE + 1), "ERR Protocol error: too big bulk count string"),
    (b"x" * (INLINE_MAX_SIZE + 1), "ERR Protocol error: too big inline request"),
    (b'SET "a\r\n', "ERR Protocol error: unbalanced quotes in request"),
    (b"SET 'a\r\n", "ERR Protocol error: unbalanced quotes in request"),
    (b'SET "a"b c\r\n', "ERR Protocol error: unbalanced quotes in request"),
    (b"SET 'a'b c\r\n", "ERR Protocol error: unbalanced quotes in request"),
]


@parser_classes
@pytest.mark.parametrize(("stream", "error"), PROTOCOL_ERRORS, ids=range(len(PROTOCOL_ERRORS)))
def test_protocol_error_texts(parser_class, stream, error):
    assert parser_class().feed(stream) == ([], error)


@parser_classes
def test_commands_before_an_error_are_returned(parser_class):
    stream = encode([b"PING"]) + b"PING\r\n" + b"*1\r\n$x\r\n" + encode([b"PING"])
    assert parser_class().feed(stream) == ([[b"PING"], [b"PING"]], "ERR Protocol error: invalid bulk length")


@parser_classes
def test_multibulk_count_limit(parser_class):
    parser = parser_class()
    assert parser.feed(b"*%d\r\n" % DEFAULT_MAX_MULTIBULK_LEN) == ([], None)
    # Redis 7.0.15 accepts up to INT_MAX (Redis 6 stopped at 1024*1024).
    assert parser_class().feed(b"*1048577\r\n") == ([], None)
    assert parser_class().feed(b"*2147483648\r\n") == (
        [],
        "ERR Protocol error: invalid multibulk length",
    )


@parser_classes
def test_bulk_length_refused_before_the_payload(parser_class):
    parser = parser_class()
    # The header alone is refused: no payload needs to arrive first.
    assert parser.feed(b"*1\r\n$536870913\r\n") == ([], "ERR Protocol error: invalid bulk length")
    accepted = parser_class()
    assert accepted.feed(b"*1\r\n$536870912\r\n") == ([], None)


def test_bulk_limit_is_configurable():
    for parser_class in PARSERS:
        parser = parser_class(max_bulk_len=10)
        assert parser.feed(encode([b"a" * 10])) == ([[b"a" * 10]], None)
        assert parser.feed(encode([b"a" * 11])) == ([], "ERR Protocol error: invalid bulk length")


@parser_classes
def test_inline_limit(parser_class):
    parser = parser_class()
    assert parser.feed(b"x" * INLINE_MAX_SIZE) == ([], None)
    assert parser.feed(b"x") == ([], "ERR Protocol error: too big inline request")
    line = b"ECHO " + b"y" * (INLINE_MAX_SIZE - 100) + b"\r\n"
    assert parser_class().feed(line) == ([[b"ECHO", b"y" * (INLINE_MAX_SIZE - 100)]], None)


@parser_classes
def test_empty_and_negative_multibulk_are_skipped(parser_class):
    stream = b"*0\r\n*-1\r\n*-5\r\n\r\n   \r\n" + encode([b"PING"])
    assert parser_class().feed(stream) == ([[b"PING"]], None)


@parser_classes
def test_bytes_after_a_payload_are_skipped_like_redis(parser_class):
    # Redis does not check the two bytes after a payload; neither does Hush.
    assert parser_class().feed(b"*1\r\n$4\r\nPINGxx*1\r\n$4\r\nPING\r\n") == (
        [[b"PING"], [b"PING"]],
        None,
    )


# -- inline commands, split like Redis's sdssplitargs ------------------------

INLINE_CASES = [
    (b"SET a b", [b"SET", b"a", b"b"]),
    (b"  SET \t a   b  ", [b"SET", b"a", b"b"]),
    (b"SET a b\r", [b"SET", b"a", b"b"]),
    (b"", []),
    (b"   ", []),
    (b'"hello world"', [b"hello world"]),
    (b"'hello world'", [b"hello world"]),
    (b'""', [b""]),
    (b"''", [b""]),
    (b'a "" b', [b"a", b"", b"b"]),
    (b'"\\n\\r\\t\\b\\a"', [b"\n\r\t\b\a"]),
    (b'"\\x41\\x00\\xff"', [b"A\x00\xff"]),
    (b'"\\x4g"', [b"x4g"]),  # not two hex digits: a plain escaped 'x'
    (b'"\\q\\"\\\\"', [b'q"\\']),
    (b"'a\\'b'", [b"a'b"]),
    (b"'a\\nb'", [b"a\\nb"]),  # single quotes keep backslashes, except before '
    (b"'\\x41'", [b"\\x41"]),
    (b'a"b c"', [b"ab c"]),  # a quote inside a word opens a quoted part
    (b'"a" \'b\'', [b"a", b"b"]),
    (
        b'foo bar "newline are supported\\n" and "\\xff\\x00otherstuff"',
        [b"foo", b"bar", b"newline are supported\n", b"and", b"\xff\x00otherstuff"],
    ),
]


@pytest.mark.parametrize(("line", "args"), INLINE_CASES)
def test_split_inline(line, args):
    assert split_inline(line) == args


@parser_classes
@pytest.mark.parametrize("ending", [b"\r\n", b"\n"], ids=["crlf", "lf"])
def test_inline_requests(parser_class, ending):
    stream = b"SET k 'v v'" + ending + b"GET k" + ending
    assert parser_class().feed(stream) == ([[b"SET", b"k", b"v v"], [b"GET", b"k"]], None)


@parser_classes
@pytest.mark.parametrize("line", [b'"abc', b"'abc", b'"a"b', b"'a'b", b'x "y'])
def test_unbalanced_inline_quotes(parser_class, line):
    assert parser_class().feed(line + b"\r\n") == (
        [],
        "ERR Protocol error: unbalanced quotes in request",
    )


# -- cost grows linearly with the input -------------------------------------
#
# Counted in bytes allocated, not in seconds, so that a busy machine cannot
# fail these and a quadratic parser cannot pass them: re-copying what is held
# on every read (the LineReceiver pattern) allocates the held bytes again per
# read, which grows with the square of the input.


def allocated_while_feeding(parser, chunks) -> int:
    """The bytes ``parser`` allocates, summed over its reads.

    Each read counts its peak of traced memory above what was live before it:
    everything it copied, even what it freed again before returning.
    """
    tracemalloc.start()
    try:
        total = 0
        for chunk in chunks:
            before, _ = tracemalloc.get_traced_memory()
            tracemalloc.reset_peak()
            parser.feed(chunk)
            total += tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    return total


def chunked(stream: bytes, size: int) -> list[bytes]:
    return [stream[i : i + size] for i in range(0, len(stream), size)]


@parser_classes
def test_pipeline_in_small_reads_allocates_linearly(parser_class):
    def run(count: int) -> int:
        stream = encode([b"SET", b"key:000000", b"value"]) * count
        return allocated_while_feeding(parser_class(), chunked(stream, 4096))

    small, large = run(2_000), run(20_000)
    # Linear: about 10 times as much for 10 times the input; re-copying the
    # held bytes per read would not show here (each read holds under one
    # command), so the big-value test below is the one that catches that.
    assert large / small < 15, (small, large)


@parser_classes
def test_large_value_in_small_reads_allocates_linearly(parser_class):
    def run(size: int) -> int:
        stream = encode([b"SET", b"k", b"v" * size])
        return allocated_while_feeding(parser_class(), chunked(stream, 1024))

    small, large = run(256 << 10), run(4 << 20)
    # 16 times the input: linear allocates about 16 times as much; keeping the
    # value in one growing buffer would allocate about 256 times as much.
    assert large / small < 24, (small, large)
    assert large < 3 * (4 << 20), large


def test_fast_parser_feeds_hiredis_in_slices():
    # hiredis moves its unread buffer down after every reply it returns, so a
    # huge read given to it whole costs quadratic time: it gets slices.
    fed: list[int] = []

    class SpyReader:
        def __init__(self, reader) -> None:
            self.reader = reader

        def feed(self, data, offset=0, length=-1):
            fed.append(len(data) - offset if length < 0 else length)
            return self.reader.feed(data, offset, length)

        def gets(self):
            return self.reader.gets()

    parser = FastParser()
    parser._reader = SpyReader(parser._reader)
    commands = [[b"SET", b"key:%06d" % i, b"value"] for i in range(20_000)]
    stream = b"".join(encode(argv) for argv in commands)
    assert parser.feed(stream) == (commands, None)
    assert sum(fed) == len(stream) and max(fed) <= 64 * 1024, max(fed)


def test_fast_parser_says_whether_a_read_repeats_one_command():
    parser = FastParser()
    gets = b"".join(encode_command("GET", "k%d" % i) for i in range(4))
    assert parser.feed(gets) == ([[b"GET", b"k%d" % i] for i in range(4)], None)
    assert parser.uniform is True
    # One command, other names, other argument counts, another case: no.
    for data in (encode_command("GET", "k"),
                 encode_command("GET", "a") + encode_command("SET", "a", "b"),
                 encode_command("GET", "a") + encode_command("GET", "a", "b"),
                 encode_command("GET", "a") + encode_command("get", "b")):
        parser.feed(data)
        assert parser.uniform is False
    # A read the exact parser takes (a frame split across reads): not looked at.
    parser.feed(gets[:-3])
    assert parser.uniform is None
    parser.feed(gets[-3:])
    assert parser.uniform is None

