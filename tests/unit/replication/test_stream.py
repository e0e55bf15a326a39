"""The replication stream's bytes, written by a master and read by a replica."""

from __future__ import annotations

import pytest

from hush.replication.stream import StreamEncoder, StreamError, StreamParser, encode


def test_the_stream_selects_a_database_before_its_first_command_and_at_each_change():
    encoder = StreamEncoder()
    data = encoder.encode([(0, [b"SET", b"k", b"v"]), (0, [b"DEL", b"k"]), (3, [b"INCR", b"n"])])
    assert data == (encode([b"SELECT", b"0"]) + encode([b"SET", b"k", b"v"])
                    + encode([b"DEL", b"k"]) + encode([b"SELECT", b"3"])
                    + encode([b"INCR", b"n"]))
    # The master's own PING goes in whatever database is selected.
    assert encoder.encode([(encoder.selected, [b"PING"])]) == encode([b"PING"])
    encoder.selected = -1
    assert encoder.encode([(-1, [b"PING"])]) == encode([b"PING"])


def test_the_parser_gives_each_command_with_the_bytes_it_took():
    parser = StreamParser()
    select, setter = encode([b"SELECT", b"0"]), encode([b"SET", b"k", b"a\r\nb"])
    stream = select + b"\n" + setter
    parser.feed(stream[:10])
    assert list(parser.commands()) == []
    parser.feed(stream[10:-3])
    assert list(parser.commands()) == [([b"SELECT", b"0"], select), ([], b"\n")]
    assert parser.buffered == len(setter) - 3
    parser.feed(stream[-3:])
    assert list(parser.commands()) == [([b"SET", b"k", b"a\r\nb"], setter)]
    assert parser.buffered == 0


def test_a_master_sending_inline_commands_is_refused():
    parser = StreamParser()
    parser.feed(b"SET k v\r\n")
    with pytest.raises(StreamError):
        list(parser.commands())
