"""Redis 7.0's directives Hush keeps without acting on: their kinds, files, CONFIG and notes.

What redis-server itself shows for each is compared in
tests/differential/test_config.py; these tests pin Hush's side on fake
clients and files.
"""

from __future__ import annotations

import pytest

from hush.config.directives import ACCEPTED, NOTES
from hush.config.files import ConfigFileError, load_file, rewrite_file
from hush.config.kinds import (
    BaseName,
    ConfigError,
    Flags,
    Hostname,
    Hz,
    KeyspaceEvents,
    OomValues,
    Percent,
    Percentiles,
    ReplicaOf,
    TitleTemplate,
)
from hush.config.settings import DEFAULTS, Settings
from hush.config.table import ALL, BY_NAME, TABLE
from hush.server.startup import notes
from tests.support import FakeServer


def write(tmp_path, text, name="redis.conf"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


# -- the table ------------------------------------------------------------------------


def test_every_directive_once_each_with_a_note_and_a_default_its_kind_reads_back():
    names = [name for setting in ALL for name in (setting.name, *setting.aliases)]
    assert len(names) == len(set(names)) == len(BY_NAME)
    assert not {setting.name for setting in ACCEPTED} & {setting.name for setting in TABLE}
    for setting in ACCEPTED:
        assert setting.note in NOTES.values(), setting.name
        default = DEFAULTS[setting.attr]
        shown = setting.kind.render(default)
        if setting.name == "replicaof":
            continue  # "" (no master) is written as no line at all, as Redis rewrites it
        # What CONFIG GET shows for the default is what a file may say to get it.
        assert setting.kind.parse(shown) == default, setting.name


def test_accepted_values_live_beside_the_attributes():
    settings = Settings()
    daemonize = BY_NAME["daemonize"]
    assert settings.value(daemonize) is False and settings.render("daemonize") == "no"
    settings.assign(daemonize, True)
    assert settings.accepted == {"daemonize": True} and settings.render("daemonize") == "yes"
    assert not hasattr(settings, "daemonize")
    assert settings.value(BY_NAME["hz"]) == settings.hz == 10


# -- the kinds ------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "shown"), [
    ("", ""), ("KEA", "AKE"), ("Kgx$", "g$xK"), ("Ex", "xE"), ("AKEm", "AKEm"),
    ("g$lshzxetdnK", "AK"), ("nlg", "gln"),
])
def test_keyspace_events_are_shown_in_redis_order(text, shown):
    assert KeyspaceEvents().parse(text) == shown


@pytest.mark.parametrize("text", ["Q", "ka", "K E", "a"])
def test_keyspace_events_refuse_unknown_classes(text):
    with pytest.raises(ConfigError) as error:
        KeyspaceEvents().parse(text)
    assert error.value.reason == "Invalid event class character. Use 'Ag$lshzxeKEtmdn'."


def test_percent_or_memory():
    kind = Percent(-100, 2**63 - 1)
    assert kind.parse("10%") == -10 and kind.render(-10) == "10%" and kind.text(-10) == "10%"
    assert kind.parse("1mb") == 1048576 and kind.render(1048576) == "1048576"
    assert kind.text(1048576) == "1mb"
    for text, reason in (("101%", "percentage argument must be less or equal to 100"),
                         ("x", "argument must be a memory or percent value"),
                         ("-1%", "argument must be a memory or percent value"),
                         ("%", "argument must be a memory or percent value")):
        with pytest.raises(ConfigError, match=reason.replace("(", r"\(")):
            kind.parse(text)


def test_flags():
    kind = Flags("default", "save", "nosave", "now", "force",
                 exclusive=("save", "nosave", "shutdown options SAVE and NOSAVE can't be used "
                                              "simultaneously"))
    assert kind.parse("now SAVE force") == "save now force"
    assert kind.parse("default") == "default" and kind.parse("default now") == "now"
    with pytest.raises(ConfigError, match="SAVE and NOSAVE"):
        kind.parse("save nosave")
    for bad in ("", "bogus", "save bogus"):
        with pytest.raises(ConfigError, match="must be one of the following: default, save"):
            kind.parse(bad)


def test_percentiles():
    kind = Percentiles()
    assert kind.parse("50 99.9 100") == "50 99.9 100"
    assert kind.parse("") == "" and kind.text("") == '""'
    assert kind.parse("1e1 .5 99.90") == "10 0.5 99.9"
    with pytest.raises(ConfigError, match="^Invalid latency-tracking-info-percentiles"):
        kind.parse("abc")
    with pytest.raises(ConfigError, match="^Invalid latency-tracking-info-percentiles"):
        kind.parse("nan")
    with pytest.raises(ConfigError, match=r"should sit between \[0.0,100.0\]"):
        kind.parse("101")


def test_oom_values_and_replicaof():
    assert OomValues().parse("10 +20 -30") == "10 20 -30"
    with pytest.raises(ConfigError, match="^wrong number of arguments$"):
        OomValues().parse("0 200")
    with pytest.raises(ConfigError, match="elements must be between -2000 and 2000"):
        OomValues().parse("0 200 3000")
    kind = ReplicaOf()
    assert kind.parse("NO ONE") == "" and kind.parse("10.0.0.1 6380") == "10.0.0.1 6380"
    assert kind.rewrite("replicaof", "", "") == []
    with pytest.raises(ConfigError, match="^Invalid master port$"):
        kind.parse("host 70000")
    with pytest.raises(ConfigError, match="^wrong number of arguments$"):
        kind.parse("host")


def test_names_hostnames_and_title_templates():
    assert BaseName("dbfilename").parse("x.rdb") == "x.rdb"
    with pytest.raises(ConfigError, match="^dbfilename can't be a path, just a filename$"):
        BaseName("dbfilename").parse("a/b.rdb")
    with pytest.raises(ConfigError, match="^appenddirname can't be empty$"):
        BaseName("appenddirname", what="dirname", allow_empty=False).parse("")
    assert Hostname().parse("a-b.example") == "a-b.example"
    with pytest.raises(ConfigError, match="may only contain alphanumeric"):
        Hostname().parse("a_b")
    template = TitleTemplate()
    assert template.parse("{title} {listen-addr} {{x}}") == "{title} {listen-addr} {{x}}"
    for bad in ("{bogus}", "{title", "{title}", "{", "  "):
        with pytest.raises(ConfigError, match="template format is invalid"):
            template.parse(bad)


def test_hz_is_held_within_1_and_500():
    assert [Hz().parse(text) for text in ("0", "1", "10", "500", "1000")] == [1, 1, 10, 500, 500]
    with pytest.raises(ConfigError, match="between 0 and 2147483647"):
        Hz().parse("-1")


def test_octal_and_refused_values_use_redis_texts():
    settings = Settings()
    with pytest.raises(ConfigError) as error:
        settings.set("activedefrag", "yes")
    assert error.value.reason.startswith("Active defragmentation cannot be enabled")
    settings.set("activedefrag", "no")
    settings.set("oom-score-adj", "relative")
    assert settings.render("oom-score-adj") == "yes"
    with pytest.raises(ConfigError, match="^argument couldn't be parsed as an octal number$"):
        BY_NAME["unixsocketperm"].kind.parse("9")
    with pytest.raises(ConfigError, match="^argument must be between 0 and 777 inclusive$"):
        BY_NAME["unixsocketperm"].kind.parse("1777")


# -- CONFIG on fake clients -----------------------------------------------------------


def test_config_set_and_get_of_accepted_directives():
    client = FakeServer().client()
    assert client.call("CONFIG", "SET", "maxmemory-clients", "10%",
                       "notify-keyspace-events", "KEA", "slave-read-only", "no") == b"OK"
    assert client.call("CONFIG", "GET", "maxmemory-clients") == [b"maxmemory-clients", b"10%"]
    assert client.call("CONFIG", "GET", "notify-keyspace-events") == [
        b"notify-keyspace-events", b"AKE"]
    assert client.call("CONFIG", "GET", "replica-read-only") == [b"replica-read-only", b"no"]
    assert str(client.call("CONFIG", "SET", "daemonize", "yes")) == (
        "ERR CONFIG SET failed (possibly related to argument 'daemonize') - "
        "can't set immutable config")
    assert str(client.call("CONFIG", "SET", "dbfilename", "x.rdb")) == (
        "ERR CONFIG SET failed (possibly related to argument 'dbfilename') - "
        "can't set protected config")
    assert client.call("CONFIG", "SET", "hz", "0") == b"OK"
    assert client.call("CONFIG", "GET", "hz") == [b"hz", b"1"]
    info = client.call("INFO", "server").decode()
    assert "\r\nhz:1\r\n" in info and "\r\nconfigured_hz:1\r\n" in info


def test_rewrite_writes_accepted_directives_as_redis_does(tmp_path):
    path = write(tmp_path, "replicaof 10.0.0.1 6379\nlazyfree-lazy-eviction no\n")
    settings = Settings()
    load_file(path, settings)
    settings.assign(BY_NAME["replicaof"], "")
    settings.set_many([("lazyfree-lazy-eviction", "yes"), ("maxmemory-clients", "5%"),
                       ("latency-tracking-info-percentiles", ""),
                       ("notify-keyspace-events", "Ex")])
    rewrite_file(settings)
    assert open(path).read() == (
        "lazyfree-lazy-eviction yes\n\n# Generated by CONFIG REWRITE\n"
        'notify-keyspace-events "xE"\nmaxmemory-clients 5%\n'
        'latency-tracking-info-percentiles ""\n')
    reread = Settings()
    load_file(path, reread)
    assert reread.accepted == {key: value for key, value in settings.accepted.items()
                               if key != "replicaof"}
    assert reread.render("replicaof") == ""


# -- config files ---------------------------------------------------------------------


def test_file_of_redis_directives_loads_and_notes_them_in_order(tmp_path):
    path = write(tmp_path, """daemonize yes
rdbcompression yes
tcp-keepalive 60
list-max-ziplist-entries 512
dbfilename dump.rdb
notify-keyspace-events ""
client-output-buffer-limit replica 256mb 64mb 60
slaveof 10.0.0.1 6379
aclfile ""
""")
    settings = Settings()
    load_file(path, settings)
    assert settings.tcp_keepalive == 60
    assert settings.render("replicaof") == "10.0.0.1 6379"
    # Hush follows the master a file names (hush.replication): no note.
    assert settings.noted == ["daemonize", "rdbcompression", "dbfilename"]
    assert notes(settings) == [
        (NOTES["daemonize"], ["daemonize"]),
        (NOTES["rdb"], ["rdbcompression", "dbfilename"]),
    ]


def test_keyspace_events_are_noted_when_switched_on(tmp_path):
    settings = Settings()
    load_file(write(tmp_path, "notify-keyspace-events Ex\n"), settings)
    assert notes(settings) == [(NOTES["keyspace-events"], ["notify-keyspace-events"])]


@pytest.mark.parametrize(("line", "reason"), [
    ("rename-command FLUSHALL \"\"", "Hush cannot rename or remove commands (rename-command)"),
    ("loadmodule", "Bad directive or wrong number of arguments"),
    ("sentinel monitor m 127.0.0.1 6379 2", "sentinel directive while not in sentinel mode"),
    ("mymodule.setting 5", "Module Configuration detected without loadmodule directive or no "
                           "ApplyConfig call: aborting"),
    ("mymodule.setting", "Module config specified without value"),
    ("rename-command FLUSHALL", "Bad directive or wrong number of arguments"),
    ("list-max-ziplist-entries 1 2", "Bad directive or wrong number of arguments"),
    ("daemonize maybe", "argument must be 'yes' or 'no'"),
    ("oom-score-adj-values 1 2", "wrong number of arguments"),
    ("dbfilename /var/lib/redis/dump.rdb", "dbfilename can't be a path, just a filename"),
    ("notify-keyspace-events KEQ", "Invalid event class character. Use 'Ag$lshzxeKEtmdn'."),
])
def test_directives_hush_cannot_honour_stop_the_start_naming_the_line(tmp_path, line, reason):
    path = write(tmp_path, f"port 7000\n{line}\n")
    with pytest.raises(ConfigFileError) as error:
        load_file(path, Settings())
    assert str(error.value).endswith(f"at line 2\n>>> '{line}'\n{reason}")


def test_deprecated_directives_are_ignored_as_by_redis(tmp_path):
    settings = Settings()
    load_file(write(tmp_path, "list-max-ziplist-entries 512\nlua-replicate-commands yes\n"),
              settings)
    assert settings == Settings(config_file=settings.config_file)


def test_a_dir_that_is_not_there_is_refused_and_not_created(tmp_path):
    missing = tmp_path / "missing"
    path = write(tmp_path, f"dir {missing}\n")
    with pytest.raises(ConfigFileError, match="No such file or directory$"):
        load_file(path, Settings())
    assert not missing.exists()


def test_a_logfile_that_cannot_be_opened_stops_the_start(tmp_path):
    path = write(tmp_path, f"logfile {tmp_path}/no/such/dir/hush.log\n")
    with pytest.raises(ConfigFileError) as error:
        load_file(path, Settings())
    assert str(error.value).endswith(
        "***\nCan't open the log file: No such file or directory")
    settings = Settings()
    load_file(write(tmp_path, f"logfile {tmp_path}/hush.log\n"), settings)
    assert settings.logfile == f"{tmp_path}/hush.log" and (tmp_path / "hush.log").exists()
