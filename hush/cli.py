# -*- test-case-name: tests.e2e.test_cli -*-
"""The ``hush`` command (and ``python -m hush``): Hush in the foreground.

``hush --port tcp:6379 ...`` runs what ``twistd --nodaemon --pidfile= hush
--port tcp:6379 ...`` runs -- the same options, the same log on standard
output, no pid file -- with two differences that suit a service manager:

* it does not scan Python's path for twistd plugins. twistd does, and writes
  what it found to ``twisted/plugins/dropin.cache``; under systemd's
  ``ProtectSystem=strict`` that file cannot be written, and twistd logs
  "Unable to write to plugin cache" at every start.
* a stop asked by SIGTERM or SIGINT ends with exit status 0, as redis-server
  does, where twistd kills itself with the signal once it has stopped.

It also runs on :class:`hush.server.reactor.HushReactor` (Twisted's epoll
reactor without the logging context around each read): the same service, at
about a tenth less CPU per unpipelined request. (``twistd -n hush`` runs on
the reactor twistd is given, ``--reactor`` or its default.)
"""

from __future__ import annotations

import sys
from typing import Any

from twisted.python import usage
from twisted.scripts.twistd import ServerOptions

#: What ``hush ARGS`` runs, before ARGS (the options of ``twistd hush``).
TWISTD_ARGS = ["--nodaemon", "--pidfile=", "hush"]


class HushServerOptions(ServerOptions):
    """twistd's options, knowing only the ``hush`` plugin and preset to run it."""

    @staticmethod
    def _getPlugins(interface: Any) -> list[Any]:
        # Instead of twisted.plugin.getPlugins: no scan, no dropin.cache.
        from twisted.plugins.hush_plugin import hush

        return [hush]

    def getSynopsis(self) -> str:
        # The hush options' usage reads "<this> hush <theirs>": "Usage: hush ...".
        return "Usage:"

    def parseOptions(self, options: list[str] | None = None) -> None:
        """Parse ``hush``'s arguments (``sys.argv[1:]`` by default) as ``twistd -n hush``'s."""
        if options is None:
            options = sys.argv[1:]
        super().parseOptions([*TWISTD_ARGS, *options])


def run_app(config: HushServerOptions) -> None:
    """Run the service as twistd's runApp does, without re-raising the stop signal."""
    from twisted.scripts._twistd_unix import UnixApplicationRunner

    UnixApplicationRunner(config).run()


def main() -> None:
    """Entry point of the ``hush`` console script and of ``python -m hush``."""
    config = HushServerOptions()
    try:
        config.parseOptions()
    except usage.UsageError as error:
        # As twistd reports it: the usage, then the error; named "hush" here.
        print(config.subOptions or config)
        print(f"hush: {error}")
        raise SystemExit(1) from None
    if "twisted.internet.reactor" not in sys.modules:
        # Unless something installed one already (twistd's --reactor would).
        from hush.server.reactor import install

        install()
    run_app(config)
