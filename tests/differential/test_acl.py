"""ACL users compared with redis-server: rules, descriptions, checks, the log, files.

Each pair of servers here is the module's own, so users and a changed default
user do not leak into other tests; every test starts without users but
``default``. Descriptions of command rules are compared by
:func:`check_rules`: Redis lists single commands in its hash table's order
(which changes with each process) and picks categories by counting commands
of a table Hush does not have all of; everything else is compared as it is.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

import hiredis
import pytest

from tests.differential.harness import Pair, parse_reply
from tests.support import REDIS_SERVER, ServerProcess, free_port, start_hush

pytestmark = pytest.mark.differential


def start_redis_with(*extra: str) -> ServerProcess:
    if REDIS_SERVER is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    port = free_port()
    argv = [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no", "--daemonize", "no", *extra]
    return ServerProcess(argv, port)


@pytest.fixture(scope="module")
def acl_servers(tmp_path_factory):
    """A Hush and a redis-server of their own, each with an ACL file (empty at first)."""
    directory = tmp_path_factory.mktemp("acl")
    hush_file, redis_file = directory / "hush.acl", directory / "redis.acl"
    hush_file.write_text("")
    redis_file.write_text("")
    config = directory / "hush.conf"
    config.write_text(f"aclfile {hush_file}\n")
    redis_proc = start_redis_with("--aclfile", str(redis_file))
    hush_proc = start_hush("--config", str(config), "--maxkeys", "0")
    yield hush_proc.port, redis_proc.port, hush_file, redis_file
    hush_proc.stop()
    redis_proc.stop()


@pytest.fixture
def acl(acl_servers):
    """A pair on the module's servers, with no user but an untouched ``default``."""
    pair = Pair(*acl_servers[:2])
    for conn in (pair.hush, pair.redis):
        users = parse_reply(conn.call("ACL", "USERS"))
        others = [name for name in users if name != b"default"]
        if others:
            conn.call("ACL", "DELUSER", *others)
        conn.call("ACL", "SETUSER", "default", "on", "nopass", "~*", "&*", "+@all",
                  "clearselectors")
        conn.call("ACL", "LOG", "RESET")
        conn.call("FLUSHALL")
    yield pair
    pair.close()


def _is_rule(token: bytes) -> bool:
    return token[:1] in (b"+", b"-")


def _skeleton(text: bytes, runs: list[list[bytes]]) -> bytes:
    """``text`` with each run of command rules replaced by ``<rules>`` (the runs go to ``runs``)."""
    tokens = text.replace(b"(", b"( ").replace(b")", b" )").split(b" ")
    out: list[bytes] = []
    for token in tokens:
        if _is_rule(token):
            if not out or out[-1] != b"<rules>":
                out.append(b"<rules>")
                runs.append([])
            runs[-1].append(token)
        else:
            out.append(token)
    return b" ".join(out).replace(b"( ", b"(").replace(b" )", b")")


def _split(value, runs: list[list[bytes]]):
    if isinstance(value, bytes):
        return _skeleton(value, runs) if b"@all" in value else value
    if isinstance(value, list):
        return [_split(item, runs) for item in value]
    if isinstance(value, dict):
        return {key: _split(item, runs) for key, item in value.items()}
    if isinstance(value, hiredis.ReplyError):
        return ("error", str(value))
    return value


def check_rules(pair: Pair, *args) -> None:
    """Send to both; the replies must agree, command rules by the permissions they give.

    Redis describes a user's commands by choosing categories that fit best,
    counting the commands of each, then single commands in its hash table's
    order. Hush makes the same choices from its own command table, which
    lacks some of Redis's commands (GEO, bitmaps, ...): where the chosen
    categories differ, each description, applied to a user on Hush, must
    allow exactly what the other allows.
    """
    ours, theirs = pair.both(*args)
    our_runs: list[list[bytes]] = []
    their_runs: list[list[bytes]] = []
    ours_split = _split(parse_reply(ours), our_runs)
    theirs_split = _split(parse_reply(theirs), their_runs)
    assert ours_split == theirs_split, f"{args!r}: hush {ours!r} != redis {theirs!r}"
    for mine, real in zip(our_runs, their_runs, strict=True):
        if sorted(mine) != sorted(real):
            assert _same_permissions(pair, mine, real), (args, mine, real)


def _same_permissions(pair: Pair, mine: list[bytes], real: list[bytes]) -> bool:
    """True if both rule lists, given to users on Hush, allow the same commands of
    the ones both servers have."""
    tables = [parse_reply(conn.call("COMMAND")) for conn in (pair.hush, pair.redis)]
    known = [{entry[0] for entry in table} | {sub[0] for entry in table for sub in entry[9]}
             for table in tables]
    arity = {entry[0]: entry[1] for entry in tables[0]}
    arity.update({sub[0]: sub[1] for entry in tables[0] for sub in entry[9]})
    plain = [{entry[0] for entry in table if not entry[9]} for table in tables]

    def shared(rule: bytes) -> bool:
        name = rule[1:]
        return b"@" in rule or all(name in names or name.split(b"|")[0] in simple
                                   for names, simple in zip(known, plain, strict=True))

    described = []
    for name, rules in (("__probe_mine", mine), ("__probe_real", real)):
        kept = [rule for rule in rules if shared(rule)]
        # Every key and channel: only the commands make a difference.
        reply = pair.hush.call("ACL", "SETUSER", name, "reset", "~*", "&*", *kept)
        assert reply == b"+OK\r\n", (kept, reply)
        allowed = []
        for command in sorted(known[0] & known[1]):
            words = command.split(b"|")
            count = arity[command]
            argv = words + [b"1"] * ((count if count > 0 else -count) - len(words))
            verdict = parse_reply(pair.hush.call("ACL", "DRYRUN", name, *argv))
            allowed.append((command, verdict == b"OK"))
        described.append(allowed)
    pair.hush.call("ACL", "DELUSER", "__probe_mine", "__probe_real")
    return described[0] == described[1]


def log_mask(args: tuple, raw: bytes) -> bytes:
    """ACL LOG with the ages and the client lines' own figures blanked: the client line
    keeps the fields that describe the command (cmd, user, db, flags, multi)."""
    raw = re.sub(rb"age-seconds\r\n(\$\d+\r\n|,)[0-9.e-]+\r\n", b"age-seconds\r\n<age>\r\n", raw)

    def client_info(match: re.Match) -> bytes:
        fields = dict(item.split(b"=", 1) for item in match.group(2).split(b" "))
        kept = b" ".join(b"%s=%s" % (name, fields[name])
                         for name in (b"flags", b"db", b"multi", b"cmd", b"user"))
        return b"client-info\r\n<" + kept + b">\r\n"

    return re.sub(rb"client-info\r\n\$(\d+)\r\n([^\r]*)\r\n", client_info, raw)


# -- rules, descriptions, GETUSER ----------------------------------------------------------

SETUSER = [
    ("ACL", "SETUSER", "e1", "%R"),
    ("ACL", "GETUSER", "e1"),
    ("ACL", "SETUSER", "e2", "%RW~k*", "%W~k*", "%R~k*", "~x", "%w~y"),
    ("ACL", "GETUSER", "e2"),
    ("ACL", "SETUSER", "e3", "%X~k"),
    ("ACL", "SETUSER", "e3", "%RR~k"),
    ("ACL", "SETUSER", "e3", "~a b"),
    ("ACL", "SETUSER", "e3", "&a\x00b"),
    ("ACL", "SETUSER", "e3", "allkeys", "~k"),
    ("ACL", "SETUSER", "e3", "allchannels", "&k"),
    ("ACL", "SETUSER", "e3", "+nosuch"),
    ("ACL", "SETUSER", "e3", "+@nosuch"),
    ("ACL", "SETUSER", "e3", "-@nosuch"),
    ("ACL", "SETUSER", "e3", "+config|get|x"),
    ("ACL", "SETUSER", "e3", "+get|"),
    ("ACL", "SETUSER", "e3", "+config|nosuch"),
    ("ACL", "SETUSER", "e3", "-get|x"),
    ("ACL", "SETUSER", "e3", "<nopw"),
    ("ACL", "SETUSER", "e3", "#abc"),
    ("ACL", "SETUSER", "e3", "!" + "0" * 64),
    ("ACL", "SETUSER", "e3", "#" + "A" * 64),
    ("ACL", "SETUSER", "e3", "bogus"),
    ("ACL", "SETUSER", "e3", "(+get", "~k)", "(bogus)"),
    ("ACL", "SETUSER", "e3", "(+get", "~k"),
    ("ACL", "SETUSER", "e3", "(on)"),
    ("ACL", "SETUSER", "e3", "('a)"),
    ("ACL", "SETUSER", "e3", "(+get ~k)", "( +set  ~v  )", "()"),
    ("ACL", "GETUSER", "e3"),
    ("ACL", "SETUSER", "e3", "clearselectors"),
    ("ACL", "LIST"),
    ("ACL", "SETUSER", "e4", "on", ">p1", ">p2", "<p1", "+select|0", "+select|1",
     "+SELECT|0", "+get", "#" + "a" * 64, "!" + "a" * 64),
    ("ACL", "GETUSER", "e4"),
    ("ACL", "SETUSER", "e4", "nopass", "skip-sanitize-payload", "SANITIZE-PAYLOAD",
     "skip-sanitize-payload"),
    ("ACL", "GETUSER", "e4"),
    ("ACL", "SETUSER", "e4", "reset"),
    ("ACL", "GETUSER", "e4"),
    ("ACL", "SETUSER", "e4", "+@all", "-@dangerous", "+config|get", "+select|0", ""),
    ("ACL", "GETUSER", "e4"),
    ("ACL", "SETUSER", "e4", "resetpass", "-@all", "+@string", "-get", "+@hash",
     "+client|id", "-@fast"),
    ("ACL", "GETUSER", "e4"),
    ("ACL", "SETUSER", "e4", "+@all", "-client", "+client|id", "-@scripting", "+eval"),
    ("ACL", "GETUSER", "e4"),
    ("ACL", "SETUSER", "e4", "nocommands", "+acl", "-acl|setuser", "allcommands",
     "-@admin", "allkeys", "resetkeys", "~a", "allchannels", "resetchannels", "&b", "&b",
     "~a"),
    ("ACL", "GETUSER", "e4"),
    ("ACL", "SETUSER", "e5", "on", "nopass", "+@all", "-@dangerous", "~*", "&*",
     "(%R~r* +@read -@fast)", "(+@write ~w*)"),
    ("ACL", "LIST"),
    ("ACL", "USERS"),
    ("ACL", "GETUSER", "e5"),
    ("ACL", "GETUSER", "nosuch"),
    ("ACL", "SETUSER", "a b"),
    ("ACL", "SETUSER", "a\x00b"),
    ("ACL", "SETUSER", "é", "on"),
    ("ACL", "DELUSER", "default"),
    ("ACL", "DELUSER", "e1", "e1", "nosuch", "default"),
    ("ACL", "DELUSER", "e1", "e1", "nosuch", "é"),
    ("ACL", "USERS"),
    ("ACL", "GETUSER"),
    ("ACL", "LIST", "x"),
    ("ACL", "WHOAMI", "x"),
    ("ACL", "USERS", "x"),
    ("ACL", "SETUSER"),
    ("ACL", "DELUSER"),
    ("ACL", "NOSUCH"),
    ("ACL", "HELP"),
]


@pytest.mark.parametrize("resp", [2, 3])
def test_setuser_getuser_list(acl, resp):
    if resp == 3:
        acl.both("HELLO", "3")
    for args in SETUSER:
        check_rules(acl, *args)


GENERAL = [
    ("ACL", "CAT"),
    ("ACL", "CAT", "nosuch"),
    ("ACL", "CAT", "read", "write"),
    ("ACL", "GENPASS", "0"),
    ("ACL", "GENPASS", "4097"),
    ("ACL", "GENPASS", "x"),
    ("ACL", "GENPASS", "1", "2"),
    ("ACL", "LOG", "x"),
    ("ACL", "LOG", "-1"),
    ("ACL", "LOG", "1", "2"),
    ("ACL", "LOG", "RESET"),
    ("ACL", "LOG"),
    ("ACL", "DRYRUN", "nosuch", "get", "x"),
    ("ACL", "DRYRUN", "default", "nosuch", "x"),
    ("ACL", "DRYRUN", "default", "get"),
    ("ACL", "DRYRUN", "default", "config", "nosuch"),
    ("ACL", "DRYRUN", "default", "config"),
    ("ACL", "DRYRUN", "default", "config", "get"),
    ("ACL", "DRYRUN", "default", "get", "x"),
    ("ACL", "DRYRUN", "default"),
]


def test_general_subcommands(acl):
    acl.run_script(GENERAL)
    for bits, length in (("", 64), ("1", 1), ("5", 2), ("4096", 1024)):
        args = ("ACL", "GENPASS", *([bits] if bits else []))
        for raw in acl.both(*args):
            password = parse_reply(raw)
            assert len(password) == length and re.fullmatch(rb"[0-9a-f]*", password)


def test_every_command_has_redis_s_categories(acl):
    """ACL CAT of each category: Redis's commands, those Hush has (Redis's order is its hash's)."""
    hush_all = {entry[0] for entry in parse_reply(acl.hush.call("COMMAND"))}
    redis_all = {entry[0] for entry in parse_reply(acl.redis.call("COMMAND"))}
    hush_all |= {sub[0] for entry in parse_reply(acl.hush.call("COMMAND")) for sub in entry[9]}
    redis_all |= {sub[0] for entry in parse_reply(acl.redis.call("COMMAND")) for sub in entry[9]}
    # CLIENT SETINFO is newer than 7.0 (redis-py sends it): its categories are
    # 7.2's. HUSH.CLOCK is Hush's own (time control for test servers).
    own = {name for name in hush_all if name.startswith(b"hush.")} | {b"client|setinfo"}
    shared = (hush_all & redis_all) - own
    assert hush_all - own <= redis_all, hush_all - own - redis_all
    for category in parse_reply(acl.redis.call("ACL", "CAT")):
        ours = set(parse_reply(acl.hush.call("ACL", "CAT", category))) & shared
        theirs = set(parse_reply(acl.redis.call("ACL", "CAT", category))) & shared
        assert ours == theirs, (category, ours ^ theirs)


# -- permissions -----------------------------------------------------------------------------

SETUP_U1 = ("ACL", "SETUSER", "u1", "on", ">pw", "+get", "+set", "+acl|whoami", "+publish",
            "+subscribe", "+psubscribe", "+multi", "+exec", "+eval", "+fcall", "+hello",
            "~k*", "%R~r*", "%W~w*", "&ch*", "(+hget ~h*)", "(+lpush +lrange ~l* &l*)")

DRYRUN = [
    SETUP_U1,
    ("ACL", "DRYRUN", "u1", "get", "x"),
    ("ACL", "DRYRUN", "u1", "get", "k1"),
    ("ACL", "DRYRUN", "u1", "set", "r1", "v"),
    ("ACL", "DRYRUN", "u1", "set", "w1", "v"),
    ("ACL", "DRYRUN", "u1", "set", "w1", "v", "GET"),
    ("ACL", "DRYRUN", "u1", "get", "r1"),
    ("ACL", "DRYRUN", "u1", "get", "w1"),
    ("ACL", "DRYRUN", "u1", "hget", "h1", "f"),
    ("ACL", "DRYRUN", "u1", "hget", "x", "f"),
    ("ACL", "DRYRUN", "u1", "hset", "h1", "f", "v"),
    ("ACL", "DRYRUN", "u1", "lrange", "l1", "0", "-1"),
    ("ACL", "DRYRUN", "u1", "publish", "x", "m"),
    ("ACL", "DRYRUN", "u1", "publish", "ch1", "m"),
    ("ACL", "DRYRUN", "u1", "subscribe", "ch1", "x"),
    ("ACL", "DRYRUN", "u1", "subscribe", "ch1", "l1"),
    ("ACL", "DRYRUN", "u1", "psubscribe", "ch*"),
    ("ACL", "DRYRUN", "u1", "psubscribe", "ch1*"),
    ("ACL", "DRYRUN", "u1", "eval", "return 1", "1", "x"),
    ("ACL", "DRYRUN", "u1", "eval", "return 1", "1", "k1"),
    ("ACL", "DRYRUN", "u1", "eval", "return 1", "5", "k1"),
    ("ACL", "DRYRUN", "u1", "eval", "return 1", "x", "k1"),
    ("ACL", "DRYRUN", "u1", "fcall", "f", "2", "k1", "x"),
    ("ACL", "DRYRUN", "u1", "ping"),
    ("ACL", "DRYRUN", "u1", "auth", "a", "b"),
    ("ACL", "DRYRUN", "u1", "mget", "k1", "r1", "x"),
    ("ACL", "SETUSER", "u2", "+select|0", "+config|get", "+client", "-client|kill", "allkeys"),
    ("ACL", "DRYRUN", "u2", "select", "0"),
    ("ACL", "DRYRUN", "u2", "select", "1"),
    ("ACL", "DRYRUN", "u2", "config", "get", "x"),
    ("ACL", "DRYRUN", "u2", "config", "set", "x", "y"),
    ("ACL", "DRYRUN", "u2", "client", "id"),
    ("ACL", "DRYRUN", "u2", "client", "kill", "1.2.3.4:5"),
    ("ACL", "DRYRUN", "u2", "object", "encoding", "k"),
]


def test_dryrun(acl):
    acl.run_script(DRYRUN)


AS_USER = [
    ("AUTH", "u1", "wrong"),
    ("AUTH", "nosuch", "wrong"),
    ("HELLO", "2", "AUTH", "u1", "nope"),
    ("AUTH", "u1", "pw"),
    ("ACL", "WHOAMI"),
    ("GET", "x"),
    ("GET", "k1"),
    ("SET", "r1", "v"),
    ("SET", "w1", "v"),
    ("SET", "w1", "v", "GET"),
    ("HGET", "h1", "f"),
    ("HGET", "x", "f"),
    ("LPUSH", "l1", "a"),
    ("PUBLISH", "x", "m"),
    ("PUBLISH", "ch1", "m"),
    ("PING",),
    ("CLIENT", "ID"),
    ("MULTI",),
    ("GET", "x"),
    ("PING",),
    ("GET", "k1"),
    ("EXEC",),
    ("MULTI",),
    ("GET", "k1"),
    ("EXEC",),
    ("EVAL", "return redis.call('get', 'x')", "0"),
    ("EVAL", "return redis.call('ping')", "0"),
    ("EVAL", "return redis.pcall('get', 'k1')", "0"),
    ("EVAL", "return redis.call('publish', 'nope', 'm')", "0"),
    ("EVAL", "return redis.acl_check_cmd('get', 'x')", "0"),
    ("HELLO", "2", "AUTH", "u1", "pw"),
]


def test_commands_as_a_restricted_user(acl):
    admin = Pair(acl.hush.sock.getpeername()[1], acl.redis.sock.getpeername()[1])
    try:
        admin.check(*SETUP_U1)
        acl.run_script(AS_USER, mask=lambda args, raw: raw.split(b"id\r\n")[0]
                       if args[0] == "HELLO" else raw)
        admin.check("ACL", "LOG", "100", mask=log_mask)
        admin.check("ACL", "LOG", "2", mask=log_mask)
        admin.check("ACL", "LOG", "RESET")
        admin.check("ACL", "LOG")
    finally:
        admin.close()


def test_rules_change_under_a_connected_user(acl):
    admin = Pair(acl.hush.sock.getpeername()[1], acl.redis.sock.getpeername()[1])
    try:
        admin.check("ACL", "SETUSER", "u3", "on", "nopass", "+@all", "~*", "&*")
        acl.run_script([("AUTH", "u3", "x"), ("SET", "k", "v"), ("MULTI",), ("SET", "k", "w"),
                        ("GET", "k")])
        # A change applies to its connections at once, to queued commands too.
        admin.check("ACL", "SETUSER", "u3", "-set", "resetkeys", "~x")
        acl.run_script([("EXEC",), ("GET", "k"), ("GET", "x"), ("ACL", "WHOAMI")])
        admin.check("ACL", "LOG", mask=log_mask)
        admin.check("CLIENT", "KILL", "USER", "nosuch")
        admin.check("CLIENT", "KILL", "USER", "u3")
        with pytest.raises(ConnectionError):
            acl.both("PING")
    finally:
        admin.close()


def test_deleting_a_user_closes_its_connections(acl):
    admin = Pair(acl.hush.sock.getpeername()[1], acl.redis.sock.getpeername()[1])
    try:
        admin.check("ACL", "SETUSER", "gone", "on", "nopass", "+@all", "~*", "&*")
        acl.run_script([("AUTH", "gone", "x"), ("ACL", "WHOAMI")])
        admin.check("ACL", "DELUSER", "gone")
        with pytest.raises(ConnectionError):
            acl.both("PING")
        # Deleting one's own user: the reply comes, then the connection closes.
        admin.check("ACL", "SETUSER", "self", "on", "nopass", "+@all", "~*", "&*")
        admin.run_script([("AUTH", "self", "x"), ("ACL", "DELUSER", "self")])
        with pytest.raises(ConnectionError):
            admin.both("PING")
    finally:
        admin.close()


def test_disabled_users_and_the_default_user(acl):
    for args in [
        ("ACL", "SETUSER", "off1", "off", "nopass", "+@all"),
        ("AUTH", "off1", "x"),
        ("ACL", "SETUSER", "off1", "on"),
        ("AUTH", "off1", "x"),
        ("AUTH", "default", "x"),
        ("AUTH", "x"),
        ("ACL", "SETUSER", "default", ">pw"),
        ("AUTH", "x"),
        ("AUTH", "pw"),
        ("ACL", "LIST"),
        ("CONFIG", "SET", "requirepass", "other"),
        ("ACL", "GETUSER", "default"),
        ("CONFIG", "GET", "requirepass"),
        ("CONFIG", "SET", "requirepass", ""),
        ("ACL", "LIST"),
    ]:
        check_rules(acl, *args)


# -- the ACL file ---------------------------------------------------------------------------

ACL_FILE = """user default on nopass ~* &* +@all
user alice on #{hash} ~cache:* &* -@all +get +set
user bob off resetchannels -@all +@read (~x +get)

user carol on nopass  ~c*
"""


def test_acl_file_save_and_load(acl, acl_servers):
    _hush_port, _redis_port, hush_file, redis_file = acl_servers
    digest = "a" * 64
    for path in (hush_file, redis_file):
        path.write_text(ACL_FILE.format(hash=digest))
    def no_paths(args: tuple, raw: bytes) -> bytes:
        return raw.replace(str(hush_file).encode(), b"<file>").replace(
            str(redis_file).encode(), b"<file>")

    acl.check("ACL", "LOAD", mask=no_paths)
    for args in [("ACL", "USERS"), ("ACL", "LIST"),
                 ("ACL", "SETUSER", "dave", "on", ">x", "+@all", "-@dangerous"),
                 ("ACL", "SAVE")]:
        check_rules(acl, *args)
    assert hush_file.read_bytes().count(b"\n") == redis_file.read_bytes().count(b"\n")
    for mine, real in zip(_file_lines(hush_file), _file_lines(redis_file), strict=True):
        runs: tuple[list[list[bytes]], list[list[bytes]]] = ([], [])
        assert _skeleton(mine, runs[0]) == _skeleton(real, runs[1])
        for ours, theirs in zip(*runs, strict=True):
            assert sorted(ours) == sorted(theirs) or _same_permissions(acl, ours, theirs)
    bad_lines = [
        "user  carol on\n",
        "usr x on\n",
        "user\n",
        "user bob\nuser bob\n",
        "user bob +nosuch +@nosuch\n",
        "user bob bogus ~a allkeys ~b\n",
        "user bob (+get ~x\n",
        "# a comment\n",
        "user default off nopass ~* &* +@all\nuser bob on +get\n",
    ]
    for content in bad_lines:
        for path in (hush_file, redis_file):
            path.write_text(content)
        acl.check("ACL", "LOAD", mask=no_paths)
        check_rules(acl, "ACL", "LIST")
    # The last file disabled the default user: this connection stays, new ones need it back.
    for path in (hush_file, redis_file):
        path.write_text("user default on nopass ~* &* +@all\n")
    acl.check("ACL", "LOAD")
    for path in (hush_file, redis_file):
        path.unlink()
    acl.check("ACL", "LOAD", mask=no_paths)
    for path in (hush_file, redis_file):
        path.write_text("")


def _file_lines(path: Path) -> list[bytes]:
    return sorted(path.read_bytes().splitlines())


def test_load_and_save_need_an_acl_file(pair):
    pair.run_script([("ACL", "LOAD"), ("ACL", "SAVE")])


# -- random rules, fixed seed -------------------------------------------------------------------

RULES = [
    "on", "off", "nopass", "resetpass", ">pw1", ">pw2", "<pw1", "reset", "allkeys", "resetkeys",
    "~k*", "%R~r*", "%W~w*", "%RW~b*", "allchannels", "resetchannels", "&ch*", "&x",
    "allcommands", "nocommands", "+@all", "-@all", "+@read", "-@read", "+@write", "-@write",
    "+@string", "-@string", "+@hash", "+@list", "-@list", "+@fast", "-@fast", "+@slow",
    "-@dangerous", "+@admin", "+@connection", "+@scripting", "-@keyspace", "+@pubsub",
    "+get", "-get", "+set", "-set", "+hget", "+client", "-client", "+client|id",
    "-client|kill", "+config|get", "+select|0", "+select|1", "+acl", "-acl|setuser",
    "+eval", "+publish", "+subscribe", "(+get ~k*)", "(%R~r* +@read)", "(+@write ~w* &ch*)",
    "clearselectors", "~x", "skip-sanitize-payload", "sanitize-payload",
]

COMMANDS = [
    ("get", "k1"), ("get", "r1"), ("get", "x"), ("set", "w1", "v"), ("set", "k1", "v"),
    ("set", "b1", "v", "GET"), ("hget", "k1", "f"), ("hset", "w1", "f", "v"), ("lpush", "k1", "a"),
    ("mget", "k1", "r1"), ("ping",), ("client", "id"), ("client", "kill", "1.2.3.4:5"),
    ("config", "get", "x"), ("config", "set", "x", "y"), ("select", "0"), ("select", "1"),
    ("acl", "whoami"), ("acl", "setuser", "z"), ("eval", "return 1", "1", "k1"),
    ("publish", "ch1", "m"), ("publish", "x", "m"), ("subscribe", "ch1", "y"),
    ("flushall",), ("keys", "*"), ("del", "k1", "w1"), ("incr", "b1"),
]


def test_random_rules(acl):
    """Random rule sets for one user, then its description and what it may run."""
    rng = random.Random(2207)
    for _ in range(80):
        rules = rng.sample(RULES, rng.randint(1, 6))
        acl.check("ACL", "SETUSER", "r", *rules)
        check_rules(acl, "ACL", "GETUSER", "r")
        check_rules(acl, "ACL", "LIST")
        for command in rng.sample(COMMANDS, 4):
            acl.check("ACL", "DRYRUN", "r", *command)
        if rng.random() < 0.1:
            acl.check("ACL", "DELUSER", "r")
