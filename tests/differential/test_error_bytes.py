"""Client bytes quoted in error and status replies, byte for byte against redis-server.

Redis copies the raw bytes of a key or argument into its texts (invalid UTF-8
included), stops where C strings stop (a NUL byte), cuts ``%.128s`` at 128
bytes, and turns CR and LF into spaces (dropping them at the end of a text).
"""

from __future__ import annotations

import random
import socket

import pytest

pytestmark = pytest.mark.differential

BINARY = b"k\xff\xfe\xc3(\x00after"
MULTIBYTE = "é".encode() * 100  # a 128-byte cut falls inside a character

SCRIPT = [
    # Unknown commands and subcommands (%.128s, '%.*s', NUL, CR/LF).
    (b"NOSUCH\xff\x00tail", BINARY, b"a\r\nb", b"\x00"),
    (b"nosuch\r\n", b"x" * 200),
    (b"nosuch", MULTIBYTE),
    (b"nosuch", b"ab", MULTIBYTE, b"more"),
    (MULTIBYTE + b"x",),
    ("CONFIG", BINARY),
    ("CONFIG", MULTIBYTE),
    ("OBJECT", b"a\r\nb\n"),
    # Stream errors name the key and group with %s.
    ("SET", "str", "x"),
    ("XADD", BINARY, "1-1", "f", "v"),
    ("XREADGROUP", "GROUP", b"g\xfe\x00x", "c", "STREAMS", BINARY, ">"),
    ("XREADGROUP", "GROUP", b"g\r\n", "c", "STREAMS", b"missing\n", ">"),
    ("XPENDING", BINARY, b"nog\xff\x00"),
    ("XAUTOCLAIM", BINARY, b"nog\xff", "c", "0", "0"),
    ("XGROUP", "SETID", BINARY, b"nog\xff\x00", "0"),
    ("XGROUP", "CREATE", BINARY, "g", "0"),
    ("XCLAIM", BINARY, "g", "c", "0", "1-1", b"opt\xff\x00x"),
    ("XINFO", "CONSUMERS", BINARY, b"nog\xff\x00"),
    ("XGROUP", b"\xffsub\x00", "x"),
    ("XINFO", b"sub\r\n"),
    # Options quoted by other families.
    ("EXPIRE", "str", "10", b"\xffopt\x00x"),
    ("EXPIRE", "str", "10", b"x\n"),
    ("EXPIRE", "str", "10", b"x\r\n\n"),
    ("HELLO", "2", b"\xffopt\x00x"),
    ("CLIENT", "KILL", "USER", b"\xffu\x00x"),
    ("CLIENT", "LIST", "TYPE", b"\xfft\x00x"),
    ("CLIENT", b"\xffsub\x00"),
    ("ACL", "CAT", b"\xffcat\x00x"),
    ("ACL", "CAT", MULTIBYTE),
    ("CONFIG", "SET", b"no\xffsuch\x00x", "1"),
    # Usage errors name the subcommand (and command) as the client spelled them.
    ("slowlog", "get", "1", "2"),
    ("SlowLog", b"gEt", "1", "2"),
    ("acl", "cat", "a", "b"),
    ("client", "pause", "10", "write", "x"),
    ("client", "unblock", "1", "timeout", "x"),
    ("XADD", "s", "1-1", "f", "v"),
    ("xgroup", "create", "s", "g", "0", "bogus"),
    ("Xgroup", "SetId", "s", "g", "0", "x", "y"),
    ("xinfo", "stream", "s", "bogus"),
    ("EVAL", "return redis.pcall('slowlog', 'gET', '1', '2')", "0"),
    ("MULTI",),
    ("acl", "Cat", "a", "b"),
    ("EXEC",),
]


def test_binary_bytes_in_errors(pair):
    pair.run_script(SCRIPT)


def _eval(body: bytes) -> tuple:
    return ("EVAL", body, "0")


SCRIPT_REPLIES = [
    _eval(b"return redis.error_reply('a\\0b')"),
    _eval(b"return redis.error_reply('-CODE a\\0b')"),
    _eval(b"return redis.error_reply('\\255\\254 bad utf-8')"),
    _eval(b"return redis.error_reply('x\\n')"),
    _eval(b"return redis.error_reply('\\nx\\r\\ny\\n')"),
    _eval(b"return redis.error_reply('ERR a\\0b').err"),
    _eval(b"return redis.error_reply('\\0')"),
    _eval(b"return redis.status_reply('a\\0b')"),
    _eval(b"return redis.status_reply('a\\255\\r\\nb\\n')"),
    _eval(b"return redis.status_reply('a\\0b').ok"),
    _eval(b"return {err='x\\0y'}"),
    _eval(b"return {err='\\255y\\n'}"),
    _eval(b"return {err='\\nfoo\\r\\n'}"),
    _eval(b"return {ok='x\\0y\\r\\n'}"),
    _eval(b"return {ok='\\255\\254'}"),
    _eval(b"return redis.pcall('nosuch\\255', 'a\\0b')"),
    _eval(b"return redis.pcall('xpending', 'nokey\\255', 'g\\0x')"),
    _eval(b"error('\\255' .. string.rep('x', 200))"),
    _eval(b"error({err='\\255\\0x'})"),
    _eval(b"return 'x' .. \\255"),
    _eval(b"#!lua flags=\xffbad\x00x\nreturn 1"),
    _eval(b"#!lua opt\xff\x00x\nreturn 1"),
    _eval(b"#!\xffluax\x00\nreturn 1"),
    _eval(b"#!lua flags=\xffbad\nreturn 1"),
    _eval(b"#!lua flags=no-writes\x00x,\xff\nreturn 1"),
    _eval(b"#!lua\x00junk flags=no-writes\nreturn redis.call('set', 'k', 'v')"),
    _eval(b"#!lua flags=\nreturn 1"),
    _eval(b"#!lua flags=no-writes,\nreturn 1"),
    _eval(b'#!lua "flags=no-writes"\nreturn redis.call("set", "k", "v")'),
    _eval(b'#!lua flags="no-writes,allow-oom"\nreturn 1'),
    _eval(b'#!lua "flags=no-writes\nreturn 1'),
    _eval(b"#!lua opt\r\nreturn 1"),
]


def test_binary_bytes_in_script_replies(pair):
    pair.run_script(SCRIPT_REPLIES)


def _reply_before_close(port: int, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(data)
        out = b""
        while chunk := sock.recv(4096):
            out += chunk
        return out


@pytest.mark.parametrize("data", [
    b"*1\r\n\xff3\r\nabc\r\n",
    b"*1\r\n\xc3\xa9\r\n",
    b"*2\r\n$3\r\nGET\r\n\xe9x\r\n",
    b"*1\r\n\n3\r\nabc\r\n",
])
def test_protocol_errors_quote_the_byte(hush_process, redis_process, data):
    """'expected '$', got 'X'' names the raw byte, as Redis's %c does."""
    assert _reply_before_close(hush_process.port, data) == _reply_before_close(
        redis_process.port, data)


_PIECES = [b"\x00", b"\r", b"\n", b"\r\n", b"\xff", b"\xc3", b"\xc3\xa9", b"\xe2\x82\xac", b"'",
           b" ", b"%s", b"a", b"Z", b"\x7f"]


def _noise(rng: random.Random, size: int = 6) -> bytes:
    return b"".join(rng.choice(_PIECES) for _ in range(rng.randint(0, size)))


def _noisy_command(rng: random.Random) -> tuple:
    word = _noise(rng)
    long_word = _noise(rng, 60)
    return rng.choice([
        (b"nosuch" + word, word, long_word, word),
        (long_word, *(_noise(rng) for _ in range(rng.randint(0, 4)))),
        (rng.choice(["CONFIG", "OBJECT", "CLIENT", "XINFO", "XGROUP", "SCRIPT", "COMMAND"]),
         b"sub" + word, "x"),
        ("EXPIRE", "str", "10", word or b"\x00"),
        ("HELLO", "2", b"opt" + word),
        ("XREADGROUP", "GROUP", word or b"g", "c", "STREAMS", b"k" + word, ">"),
        ("XPENDING", b"s" + word, b"g" + word),
        ("XCLAIM", "s", "g", "c", "0", "1-1", b"o" + word),
        ("CONFIG", "SET", b"opt" + word, "1"),
        ("ACL", "CAT", b"c" + word),
        ("CLIENT", "LIST", "TYPE", b"t" + word),
        ("EVAL", b"return redis.error_reply('" + word.replace(b"'", b"") + b"')", "0"),
        ("EVAL", b"return redis.status_reply('" + word.replace(b"'", b"") + b"')", "0"),
        ("EVAL", b"return {err='" + word.replace(b"'", b"") + b"'}", "0"),
    ])


def test_random_noisy_arguments(pair):
    """Seeded requests whose quoted arguments hold NULs, CR/LF and invalid UTF-8."""
    rng = random.Random(777)
    pair.check("SET", "str", "x")
    pair.check("XADD", "s", "1-1", "f", "v")
    pair.check("XGROUP", "CREATE", "s", "g", "0")
    for _ in range(300):
        pair.check(*_noisy_command(rng))
