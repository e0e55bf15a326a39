# -*- test-case-name: tests.unit.server.test_tap -*-
"""The twistd plugin's options and service maker: ``twistd -n hush --port tcp:6379``."""

from __future__ import annotations

import sys
from typing import Any

from twisted.application.service import IService
from twisted.python import usage

from hush import __version__
from hush.commands.acl_users import check_config_users
from hush.commands.modules import ModuleError
from hush.config.endpoints import listen_endpoints
from hush.config.files import ConfigFileError, load_file, split_args
from hush.config.kinds import ConfigError
from hush.config.settings import Settings
from hush.config.table import BY_NAME
from hush.data.cluster import ClusterStartError
from hush.server.service import BadEndpoint, make_service

DEFAULT_PORT = "tcp:6379:interface=127.0.0.1:backlog=511"


class Options(usage.Options):
    """Command-line options of ``twistd hush``."""

    synopsis = "[--config FILE] [--port ENDPOINT ...] [--maxkeys N] [other options]"
    longdesc = (
        "Hush: a Redis-compatible in-memory data store. Serves the Redis protocol "
        "(RESP2 and RESP3) on each --port endpoint."
    )

    optParameters = [
        [
            "maxkeys",
            None,
            1000,
            "Capacity of each database, in keys: a write that would exceed it "
            "evicts a key by --maxkeys-policy. 0 means unlimited.",
        ],
        [
            "maxkeys-policy",
            None,
            "allkeys-lru",
            "What a database at --maxkeys gives up for a new key: allkeys-lru (the "
            "least recently used key), volatile-lru / volatile-random / volatile-ttl "
            "(only keys with a TTL), allkeys-random, or noeviction (refuse the write "
            "with an OOM error; keeps queues safe).",
        ],
        ["databases", None, 16, "Number of databases (SELECT 0..N-1)."],
        [
            "config",
            "c",
            None,
            "A redis.conf-style configuration file (see contrib/hush.conf); "
            "options given on the command line override it.",
        ],
        [
            "requirepass",
            None,
            "",
            "Password clients must give with AUTH (or HELLO ... AUTH) before any "
            "other command. Visible to other local users in the process list: "
            "prefer a configuration file.",
        ],
        [
            "protected-mode",
            None,
            None,
            "yes: without --requirepass, refuse connections from other hosts "
            "(only loopback and Unix sockets are served). Default: yes.",
        ],
        [
            "maxclients",
            None,
            10000,
            "Most simultaneous client connections; more are refused with "
            "'max number of clients reached'.",
        ],
        [
            "timeout",
            None,
            0,
            "Close connections idle for more than this many seconds (not blocked "
            "or subscribed ones). 0 means never.",
        ],
        ["metrics", None, None,
         "Serve Prometheus metrics at /metrics on this Twisted endpoint "
         "(e.g. tcp:9121:interface=127.0.0.1)."],
        ["enable-debug-command", None, "no",
         "Allow DEBUG: no (Redis 7.0's default), yes, or local (loopback and Unix "
         "socket connections only)."],
        ["enable-time-control", None, "no",
         "yes: a server for tests, whose clock HUSH.CLOCK ADVANCE moves forward "
         "(TTLs, timeouts, idle times). Default: no."],
        ["dir", None, ".", "Directory of the append-only and dump files (it must exist)."],
        ["appendfilename", None, "appendonly.aof", "Name of the append-only file in --dir."],
        ["appendfsync", None, "everysec", "always, everysec or no: when the AOF is fsynced."],
    ]
    optFlags = [
        ["appendonly", None, "Log every write to the append-only file and load it at start."],
    ]

    def __init__(self) -> None:
        super().__init__()
        self["ports"] = []
        self["loadmodule"] = []
        # Options given on the command line override the config file; twistd's
        # defaults must not.
        self.given: set[str] = set()
        self._settings: Settings | None = None

    def opt_appendonly(self) -> None:
        """Log every write to the append-only file and load it at start."""
        self["appendonly"] = True
        self.given.add("appendonly")

    def _given(self, name: str, value: str) -> None:
        """Record a setting given on the command line (it overrides the config file).

        The value is checked as the config file's would be; a bad one ends
        the start with one line naming the option and Redis's reason, not
        twistd's usage text.
        """
        try:
            self[name] = BY_NAME[name].kind.parse(value)
        except ConfigError as error:
            raise SystemExit(f"Invalid --{name} {value!r}: {error.reason}") from None
        self.given.add(name)

    def opt_port(self, description: str) -> None:
        """Listen on this Twisted endpoint (tcp:6379, unix:/run/hush.sock,
        ssl:6380:privateKey=key.pem:certKey=cert.pem, systemd:domain=INET:index=0
        for the first socket systemd passes, or systemd:domain=INET:name=NAME).
        May be given several times. Default: tcp:6379:interface=127.0.0.1:backlog=511."""
        self["ports"].append(description)

    opt_p = opt_port

    def opt_loadmodule(self, spec: str) -> None:
        """Load a module of commands written in Python at start: a .py file or an import
        path, then its arguments ("contrib/modules/leaderboard.py 100"). May be given
        several times; loaded after the config file's loadmodule lines."""
        try:
            words = split_args(spec)
        except ValueError:
            raise SystemExit(f"Invalid --loadmodule {spec!r}: unbalanced quotes") from None
        if not words:
            raise SystemExit("Invalid --loadmodule '': a path is needed")
        self["loadmodule"].append((words[0], words[1:]))

    def opt_version(self) -> None:
        """Print Hush's version and exit."""
        print(f"hush {__version__}")
        raise SystemExit(0)

    def postOptions(self) -> None:
        ports_given = bool(self["ports"])
        if not ports_given:
            self["ports"] = [DEFAULT_PORT]
        # Settings' defaults are the options' defaults: only what was given
        # on the command line is applied, over the --config file if any.
        settings = Settings()
        if self["config"]:
            try:
                load_file(self["config"], settings,
                          keep={name.replace("-", "_") for name in self.given})
            except ConfigFileError as error:
                # Redis's way: the report on stderr and a failed exit, no usage text.
                print(error, file=sys.stderr)
                raise SystemExit(1) from None
            refused = check_config_users([line[3] for line in settings.user_lines])
            if refused is not None:
                index, reason = refused
                path, number, line, _words = settings.user_lines[index]
                print(ConfigFileError.at_line(path, number, line, reason), file=sys.stderr)
                raise SystemExit(1)
        for name in self.given:
            setattr(settings, name.replace("-", "_"), self[name])
        settings.loadmodule.extend(self["loadmodule"])
        if self["config"] and not ports_given:
            # --port replaces the file's port/bind/unixsocket.
            settings.listen = listen_endpoints(settings)
            if not settings.listen:
                print("Configured to not listen anywhere, exiting.", file=sys.stderr)
                raise SystemExit(1)
        else:
            settings.listen = list(self["ports"])
        settings.follow_listen()
        self._settings = settings

    def settings(self) -> Settings:
        """The server settings these options (and the --config file) describe."""
        if self._settings is None:
            raise usage.UsageError("parseOptions() has not run")
        return self._settings


def _setting_option(name: str) -> Any:
    def opt(self: Options, value: str) -> None:
        self._given(name, value)

    return opt


# Every parameter but --config and --metrics is a setting of the same (Redis)
# name: its opt_ method records that it was given, so that it overrides the
# --config file while the twistd defaults do not.
for _name, *_rest in Options.optParameters:
    if _name not in ("config", "metrics"):
        setattr(Options, "opt_" + _name.replace("-", "_"), _setting_option(_name))


def makeService(options: Options) -> IService:
    """Build the Hush service from parsed options.

    A start that cannot succeed ends with one line and a failed exit, as
    Redis's does: a bad option value while the options are parsed, a bad
    endpoint here, a port in use as the listeners open (see
    :class:`hush.server.service.HushService`).
    """
    from hush.server.logconfig import observer
    from hush.server.startup import StartupLog, quiet_startup_failures

    settings = options.settings()
    try:
        top = make_service(settings)
    except BadEndpoint as error:
        raise SystemExit(f"Invalid --port {error}") from None
    except (ClusterStartError, ModuleError) as error:
        # Redis's words for a nodes.conf or module it cannot use, then a failed exit.
        raise SystemExit(str(error)) from None
    quiet_startup_failures()
    twistd = getattr(options, "parent", None)
    if twistd is not None:
        top.log_observer = observer(settings, twistd)
    if options["metrics"]:
        from hush.server.metrics_site import metrics_service

        store = top.getServiceNamed("hush-store")
        try:
            metrics = metrics_service(store, options["metrics"])
        except Exception as error:  # noqa: BLE001 -- each endpoint parser fails its own way
            raise SystemExit(f"Invalid --metrics {BadEndpoint(options['metrics'], error)}") from None
        top.add_listener(metrics, options["metrics"])
    StartupLog(settings).setServiceParent(top)
    return top
