"""ACL users through the protocol (StringTransport + Clock): rules, checks, the log,
authentication as a user, the ACL file, config ``user`` lines, and what the
dispatcher does for a user with every permission (nothing)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from hush.commands.acl_users import check_config_users
from tests.support import FakeClient, FakeServer, error_of


def setuser(client: FakeClient, name: str, *rules: str) -> Any:
    return client.call("ACL", "SETUSER", name, *rules)


def as_user(server: FakeServer, name: str, password: str = "x", port: int = 40100) -> FakeClient:
    """A new connection authenticated as ``name``."""
    connection = server.client(port)
    assert connection.call("AUTH", name, password) == b"OK"
    return connection


def getuser(client: FakeClient, name: str) -> dict[bytes, Any]:
    reply = client.call("ACL", "GETUSER", name)
    return dict(zip(reply[::2], reply[1::2], strict=True))


# -- the default user ------------------------------------------------------------------


def test_the_default_user_is_unrestricted_and_not_gated(server, client):
    session = client.protocol.session
    assert session.user is server.service.acl.default
    assert session.user.unrestricted and session._gated is False
    assert client.call("ACL", "LIST") == [b"user default on nopass ~* &* +@all"]
    assert client.call("ACL", "WHOAMI") == b"default"
    # Taking one command away makes the default user's connections checked.
    setuser(client, "default", "-debug")
    assert session._gated is True
    setuser(client, "default", "+debug")
    assert session._gated is False


def test_requirepass_is_the_default_user_s_password():
    server = FakeServer(requirepass="s3cret")
    client = server.client()
    digest = hashlib.sha256(b"s3cret").hexdigest()
    assert error_of(client.call("PING")) == "NOAUTH Authentication required."
    assert client.call("AUTH", "s3cret") == b"OK"
    assert client.call("ACL", "LIST") == [f"user default on #{digest} ~* &* +@all".encode()]
    assert client.call("CONFIG", "SET", "requirepass", "") == b"OK"
    assert client.call("ACL", "LIST") == [b"user default on nopass ~* &* +@all"]


# -- rules and their descriptions ----------------------------------------------------------


def test_setuser_is_all_or_nothing(client):
    assert error_of(setuser(client, "bob", "on", ">pw", "+get", "bogus")) == (
        "ERR Error in ACL SETUSER modifier 'bogus': Syntax error")
    assert client.call("ACL", "GETUSER", "bob") is None
    setuser(client, "bob", "on", ">pw", "+get", "~k*")
    assert error_of(setuser(client, "bob", "-get", "+nosuch")) == (
        "ERR Error in ACL SETUSER modifier '+nosuch': Unknown command or category name in ACL")
    assert client.call("ACL", "LIST")[0] == (
        b"user bob on #30c952fab122c3f9759f02a6d95c3758b246b4fee239957b2d4fee46e26170c4 "
        b"~k* resetchannels -@all +get")


def test_getuser_shows_flags_patterns_and_selectors(client):
    setuser(client, "s", "on", "nopass", "%R~r*", "%W~w*", "~k*", "%R~k*", "&ch",
            "+@string", "-set", "(+hget ~h* &x)")
    user = getuser(client, "s")
    assert user[b"flags"] == [b"on", b"nopass"]
    assert user[b"passwords"] == []
    assert user[b"commands"] == b"-@all +@string -set"
    assert user[b"keys"] == b"%R~r* %W~w* ~k*"
    assert user[b"channels"] == b"&ch"
    assert user[b"selectors"] == [[b"commands", b"-@all +hget", b"keys", b"~h*",
                                   b"channels", b"&x"]]


def test_descriptions_pick_categories_as_redis_does(client):
    for rules, commands in [
        (("+@all",), b"+@all"),
        (("+@all", "-@dangerous"), b"+@all -@dangerous"),
        (("+@all", "-@dangerous", "+config|get"), b"+@all -@dangerous +config|get"),
        (("nocommands", "+client", "-client|kill"), b"-@all +client -client|kill"),
        (("nocommands", "+select|0", "+select|1"), b"-@all +select|0 +select|1"),
        (("allcommands", "-@all", "+@hash"), b"-@all +@hash"),
    ]:
        setuser(client, "d", "reset", *rules)
        assert getuser(client, "d")[b"commands"] == commands, rules


def test_first_arguments_are_dropped_by_later_category_rules(client):
    setuser(client, "f", "+select|0", "+@all", "-select")
    assert getuser(client, "f")[b"commands"] == b"+@all -select"


# -- checks -------------------------------------------------------------------------------


@pytest.fixture
def limited(server, client) -> FakeClient:
    setuser(client, "u", "on", ">x", "+get", "+set", "+publish", "+psubscribe", "+multi",
            "+exec", "+eval", "+fcall", "+acl|whoami", "~k*", "%R~r*", "&ch*", "(+hget ~h*)")
    return as_user(server, "u")


def test_nopermission_errors(limited):
    assert limited.call("GET", "k1") is None
    assert error_of(limited.call("GET", "other")) == (
        "NOPERM this user has no permissions to access one of the keys used as arguments")
    assert error_of(limited.call("SET", "r1", "v")) == (
        "NOPERM this user has no permissions to access one of the keys used as arguments")
    assert limited.call("HGET", "h1", "f") is None
    assert error_of(limited.call("PING")) == (
        "NOPERM this user has no permissions to run the 'ping' command")
    assert error_of(limited.call("PUBLISH", "news", "m")) == (
        "NOPERM this user has no permissions to access one of the channels used as arguments")
    assert error_of(limited.call("PSUBSCRIBE", "ch1*")) == (
        "NOPERM this user has no permissions to access one of the channels used as arguments")
    assert limited.call("ACL", "WHOAMI") == b"u"


def test_refusals_are_logged_and_counted(server, client, limited):
    limited.call("GET", "other")
    limited.call("GET", "other")
    limited.call("PING")
    entries = client.call("ACL", "LOG")
    assert [dict(zip(entry[::2], entry[1::2], strict=True))[b"object"] for entry in entries] == [
        b"ping", b"other"]
    first = dict(zip(entries[1][::2], entries[1][1::2], strict=True))
    assert (first[b"count"], first[b"reason"], first[b"context"], first[b"username"]) == (
        2, b"key", b"toplevel", b"u")
    assert b" cmd=get user=u " in first[b"client-info"]
    stats = client.call("INFO", "stats")
    assert b"acl_access_denied_cmd:1\r\n" in stats and b"acl_access_denied_key:2\r\n" in stats
    assert client.call("ACL", "LOG", "1")[0][7] == b"ping"
    assert client.call("ACL", "LOG", "RESET") == b"OK"
    assert client.call("ACL", "LOG") == []


def test_log_keeps_acllog_max_len_entries(server, client, limited):
    client.call("CONFIG", "SET", "acllog-max-len", "2")
    for key in ("a", "b", "c"):
        limited.call("GET", key)
    assert [entry[7] for entry in client.call("ACL", "LOG")] == [b"c", b"b"]


def test_a_transaction_is_checked_when_queued_and_when_run(client, limited):
    limited.call("MULTI")
    assert error_of(limited.call("PING")).startswith("NOPERM")
    assert error_of(limited.call("EXEC")) == (
        "EXECABORT Transaction discarded because of previous errors.")
    limited.call("MULTI")
    assert limited.call("SET", "k1", "v") == b"QUEUED"
    setuser(client, "u", "-set")
    assert [str(reply) for reply in limited.call("EXEC")] == [
        "NOPERM ACLs rules changed between the moment the transaction was accumulated and the "
        "EXEC call. This command is no longer allowed for the following reason: no permission "
        "to execute the command or subcommand"]
    assert client.call("ACL", "LOG", "1")[0][5] == b"multi"


def test_scripts_and_functions_run_as_their_caller(client, limited):
    body = "return redis.call('get', 'other')"
    sha = hashlib.sha1(body.encode()).hexdigest()
    assert error_of(limited.call("EVAL", body, 0)) == (
        "ERR The user executing the script can't access at least one of the keys mentioned in "
        f"the command arguments script: {sha}, on @user_script:1.")
    assert limited.call("EVAL", "return {redis.acl_check_cmd('get', 'k1'), "
                        "redis.acl_check_cmd('get', 'x'), redis.acl_check_cmd('ping')}", 0) == [
        1, None, None]
    assert error_of(limited.call("EVAL", "return redis.acl_check_cmd('nosuch')", 0)).startswith(
        "ERR Invalid command passed to redis.acl_check_cmd()")
    client.call("FUNCTION", "LOAD", "#!lua name=l\nredis.register_function('f', function(keys) "
                "return redis.call('ping') end)")
    assert error_of(limited.call("FCALL", "f", 0)) == (
        "ERR The user executing the script can't run this command or subcommand script: f, "
        "on @user_function:2.")
    assert client.call("ACL", "LOG", "1")[0][5] == b"lua"


def test_rules_apply_to_connected_clients_at_once(client, limited):
    assert limited.call("GET", "k1") is None
    setuser(client, "u", "resetkeys", "~x")
    assert error_of(limited.call("GET", "k1")).startswith("NOPERM")
    setuser(client, "u", "+@all", "allkeys", "allchannels", "clearselectors")
    assert limited.protocol.session._gated is False
    assert limited.call("PING") == b"PONG"


def test_dryrun(client, limited):
    assert client.call("ACL", "DRYRUN", "u", "get", "k1") == b"OK"
    assert client.call("ACL", "DRYRUN", "u", "get", "x") == (
        b"This user has no permissions to access the 'x' key")
    assert client.call("ACL", "DRYRUN", "u", "ping") == (
        b"This user has no permissions to run the 'ping' command")
    assert client.call("ACL", "DRYRUN", "u", "publish", "x", "m") == (
        b"This user has no permissions to access the 'x' channel")
    assert error_of(client.call("ACL", "DRYRUN", "u", "config", "nosuch")) == (
        "ERR Command 'config' not found")
    assert error_of(client.call("ACL", "DRYRUN", "u", "get")) == (
        "ERR wrong number of arguments for 'get' command")
    # Nothing is logged.
    assert client.call("ACL", "LOG") == []


# -- authentication and connections -----------------------------------------------------


def test_auth_and_hello_as_a_user(server, client):
    setuser(client, "bob", "on", ">pw", "+@all", "~*")
    other = server.client(40200)
    assert error_of(other.call("AUTH", "bob", "nope")) == (
        "WRONGPASS invalid username-password pair or user is disabled.")
    assert error_of(other.call("HELLO", "3", "AUTH", "nobody", "pw")) == (
        "WRONGPASS invalid username-password pair or user is disabled.")
    assert other.call("HELLO", "3", "AUTH", "bob", "pw")[b"proto"] == 3
    assert other.call("ACL", "WHOAMI") == b"bob"
    assert b" user=bob " in other.call("CLIENT", "INFO")
    assert [entry[b"object"] for entry in map(dict, _pairs(client.call("ACL", "LOG")))] == [
        b"HELLO", b"AUTH"]
    setuser(client, "bob", "off")
    assert error_of(server.client(40201).call("AUTH", "bob", "pw")).startswith("WRONGPASS")
    # RESET goes back to the default user.
    assert other.call("RESET") == b"RESET"
    assert other.call("ACL", "WHOAMI") == b"default"


def _pairs(entries: list[list[Any]]) -> list[list[tuple[Any, Any]]]:
    return [list(zip(entry[::2], entry[1::2], strict=True)) for entry in entries]


def test_client_kill_user_and_deluser_close_connections(server, client):
    setuser(client, "bob", "on", "nopass", "+@all", "~*", "&*")
    bobs = [as_user(server, "bob", port=port) for port in (40300, 40301)]
    assert error_of(client.call("CLIENT", "KILL", "USER", "nobody")) == (
        "ERR No such user 'nobody'")
    assert client.call("CLIENT", "KILL", "USER", "bob", "ID", str(
        bobs[0].protocol.session.client_id)) == 1
    assert bobs[0].closed and not bobs[1].closed
    assert client.call("ACL", "DELUSER", "bob", "nobody") == 1
    assert bobs[1].closed
    assert error_of(client.call("ACL", "DELUSER", "default")) == (
        "ERR The 'default' user cannot be removed")


def test_deleting_one_s_own_user_answers_then_closes(server, client):
    setuser(client, "me", "on", "nopass", "+@all", "~*", "&*")
    mine = as_user(server, "me")
    assert mine.call("ACL", "DELUSER", "me") == 1
    assert mine.closed


def test_subscribers_losing_their_channels_are_disconnected(server, client):
    setuser(client, "sub", "on", "nopass", "+@all", "~*", "&news.*", "&alerts")
    listener = as_user(server, "sub")
    listener.call("SUBSCRIBE", "news.today")
    setuser(client, "sub", "&more")
    assert not listener.closed
    setuser(client, "sub", "resetchannels", "&alerts")
    assert listener.closed


def test_shard_subscribers_losing_their_channels_are_disconnected(server, client):
    setuser(client, "sub", "on", "nopass", "+@all", "~*", "&news.*", "&alerts")
    listener = as_user(server, "sub")
    listener.call("SSUBSCRIBE", "news.today")
    setuser(client, "sub", "resetchannels", "&alerts")
    assert listener.closed


def test_acl_pubsub_default(client):
    client.call("CONFIG", "SET", "acl-pubsub-default", "allchannels")
    setuser(client, "p")
    assert getuser(client, "p")[b"channels"] == b"&*"
    setuser(client, "p", "resetchannels", "reset")
    assert getuser(client, "p")[b"channels"] == b"&*"


# -- the ACL file and config lines ----------------------------------------------------------


def test_acl_file(tmp_path: Path):
    path = tmp_path / "users.acl"
    path.write_text("user default on nopass ~* &* +@all\nuser carol on >pw ~c:* -@all +get\n")
    server = FakeServer(aclfile=str(path), maxkeys=0)
    server.service.load_users()
    client = server.client()
    assert client.call("ACL", "USERS") == [b"carol", b"default"]
    carol = as_user(server, "carol", "pw")
    setuser(client, "dave", "on", "nopass", "+ping")
    assert client.call("ACL", "SAVE") == b"OK"
    assert path.read_bytes().splitlines()[1] == b"user dave on nopass resetchannels -@all +ping"
    path.write_text("user default on nopass ~* &* +@all\nuser carol bogus\n")
    assert error_of(client.call("ACL", "LOAD")) == (
        f"ERR {path}:2: Syntax error. WARNING: ACL errors detected, no change to the "
        "previously active ACL rules was performed")
    path.write_text("user default on nopass ~* &* +@all\nuser erin on\n")
    assert client.call("ACL", "LOAD") == b"OK"
    assert client.call("ACL", "USERS") == [b"default", b"erin"]
    # The users the file replaced lose their connections.
    assert carol.closed


def test_load_and_save_need_an_acl_file(client):
    text = ("ERR This Redis instance is not configured to use an ACL file. You may want to "
            "specify users via the ACL SETUSER command and then issue a CONFIG REWRITE "
            "(assuming you have a Redis configuration file set) in order to store users in the "
            "Redis configuration.")
    assert error_of(client.call("ACL", "LOAD")) == text
    assert error_of(client.call("ACL", "SAVE")) == text


def test_config_user_lines_at_start(logged):
    server = FakeServer(maxkeys=0, requirepass="ignored")
    server.settings.user_lines = [
        ("hush.conf", 1, "user default on nopass ~* &* +@all", [b"user", b"default", b"on",
                                                                b"nopass", b"~*", b"&*",
                                                                b"+@all"]),
        ("hush.conf", 2, "user worker ...", [b"user", b"worker", b">pw", b"(+get", b"~k)"]),
    ]
    server.service.load_users()
    client = server.client()
    # As in Redis, a "user default" line starts from a reset (hence sanitize-payload).
    assert client.call("ACL", "LIST") == [
        b"user default on nopass sanitize-payload ~* &* +@all",
        b"user worker off #30c952fab122c3f9759f02a6d95c3758b246b4fee239957b2d4fee46e26170c4 "
        b"resetchannels -@all (~k resetchannels -@all +get)"]
    assert any("The user 'worker' is disabled" in str(event.get("notice", ""))
               for event in logged)


def test_config_user_lines_are_checked_as_redis_does():
    assert check_config_users([[b"user", b"bob", b"on", b"+nosuch"]]) is None
    assert check_config_users([[b"user", b"bob", b"on", b"badrule"]]) == (
        0, "Error in user declaration 'bob': Syntax error")
    assert check_config_users([[b"user", b"bob", b"on"], [b"user", b"bob", b"off"]]) == (
        1, "Error in user declaration 'bob': Duplicate user found. A user can only be defined "
           "once in config files")


def test_unknown_commands_in_config_lines_stop_the_start():
    from hush.server.startup import StartupFailure

    server = FakeServer()
    server.settings.user_lines = [("c", 1, "user bob +nosuch", [b"user", b"bob", b"+nosuch"])]
    with pytest.raises(StartupFailure, match="Error loading ACL rule '[+]nosuch' for the user "
                                             "named 'bob': Unknown command or category name"):
        server.service.load_users()
    both = FakeServer(aclfile="/nonexistent")
    both.settings.user_lines = server.settings.user_lines
    with pytest.raises(StartupFailure, match="users defined in redis.conf and at the same "
                                             "setting an ACL file path is invalid"):
        both.service.load_users()


def test_setuser_is_redacted_in_the_slow_log(client):
    client.call("CONFIG", "SET", "slowlog-log-slower-than", "0")
    setuser(client, "secret", ">hunter2")
    entry = client.call("SLOWLOG", "GET", "2")[0]
    assert entry[3] == [b"ACL", b"SETUSER", b"(redacted)", b"(redacted)"]


def test_genpass(client):
    assert len(client.call("ACL", "GENPASS")) == 64
    assert len(client.call("ACL", "GENPASS", "5")) == 2
    assert error_of(client.call("ACL", "GENPASS", "0")).startswith(
        "ERR ACL GENPASS argument must be the number of bits")


def test_cat_lists_containers_too(client):
    assert b"client" in client.call("ACL", "CAT", "slow")
    assert b"client|kill" in client.call("ACL", "CAT", "admin")
    assert b"client" not in client.call("ACL", "CAT", "admin")
