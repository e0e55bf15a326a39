"""The error texts of hush.core.errors are Redis's own, asked of a real redis-server.

The protocol tests take their expected texts from :mod:`hush.core.errors`
(each text lives once); this pins every one of them, byte for byte, to what
redis-server answers -- and Hush with it.
"""

from __future__ import annotations

import pytest

from hush.core import errors

pytestmark = pytest.mark.differential

#: Each text by its name, the commands that set the scene, and the command
#: that answers it (INVALID_EXPIRE is a template: it names the command).
CASES = {
    "WRONGTYPE": ([("SET", "s", "x")], ("LPUSH", "s", "a")),
    "SYNTAX": ([], ("SET", "k", "v", "NX", "XX")),
    "NOT_INTEGER": ([], ("INCRBY", "k", "x")),
    "NOT_FLOAT": ([], ("INCRBYFLOAT", "k", "x")),
    "OVERFLOW": ([("SET", "n", str(2**63 - 1))], ("INCR", "n")),
    "NO_SUCH_KEY": ([], ("RENAME", "nosuch", "x")),
    "INDEX_OUT_OF_RANGE": ([("RPUSH", "l", "a")], ("LSET", "l", "5", "x")),
    "DB_INDEX_OUT_OF_RANGE": ([], ("SELECT", "100")),
    "INVALID_EXPIRE": ([], ("SET", "k", "v", "EX", "0")),
    "TIMEOUT_NOT_FLOAT": ([], ("BLPOP", "k", "x")),
    "TIMEOUT_NEGATIVE": ([], ("BLPOP", "k", "-1")),
    "NOT_POSITIVE": ([("SADD", "set", "a")], ("SPOP", "set", "-1")),
}


def test_every_text_has_a_case():
    texts = {name for name, value in vars(errors).items()
             if name.isupper() and not name.startswith("_") and isinstance(value, str)}
    assert texts == set(CASES)


@pytest.mark.parametrize("name", CASES)
def test_error_text_is_redis_s(pair, name):
    scene, command = CASES[name]
    text = getattr(errors, name).format(command[0].lower())
    pair.run_script(scene)
    assert pair.check(*command) == b"-%s\r\n" % text.encode()
