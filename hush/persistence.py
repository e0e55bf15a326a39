# -*- test-case-name: tests.test_aof -*-
"""The server's persistence: loading the AOF at start, the AOF while running, saves, shutdown.

Hush has no RDB format. Its only file is the append-only file, in Redis's
format; SAVE and BGSAVE therefore write a compacted AOF (what BGREWRITEAOF
writes) to ``<dir>/<appendfilename>``, so that whatever they save is what a
restart with ``appendonly yes`` loads back. They answer with Redis's texts.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

from twisted.logger import Logger

from hush.aof import AOFError, AppendOnlyFile, load, write_snapshot
from hush.errors import CommandError
from hush.propagation import Propagator

if TYPE_CHECKING:
    from hush.service import StoreService

log = Logger()


class Persistence:
    """The AOF of one :class:`hush.service.StoreService`, and what SAVE/SHUTDOWN do.

    @ivar aof: the open append-only file while ``appendonly`` is on, else None.
    @ivar last_save: unix second of the last successful save or rewrite (LASTSAVE).
    """

    def __init__(self, service: StoreService) -> None:
        self.service = service
        self.aof: AppendOnlyFile | None = None
        # A rewrite started while the AOF is off (BGSAVE, BGREWRITEAOF).
        self._detached: AppendOnlyFile | None = None
        self.last_save = int(service.clock.seconds())
        self.loading = False
        self.loaded_commands = 0
        self.shutting_down = False
        self.dirty_at_save = 0
        self._bgsave = False

    # -- life cycle ----------------------------------------------------------

    def start(self) -> None:
        """Replay the AOF and start appending to it (when ``appendonly`` is on).

        A file that cannot be loaded stops the server with Redis's message
        naming the byte offset, rather than starting with missing data.
        """
        settings = self.service.settings
        if not settings.appendonly or self.aof is not None:
            return
        path = os.path.join(settings.dir, settings.appendfilename)
        self.loading = True
        try:
            self.loaded_commands = load(self.service, path, settings.aof_load_truncated)
        except AOFError as error:
            log.critical("{error}", error=str(error))
            print(f"hush: {error}", file=sys.stderr)
            raise SystemExit(1) from None
        finally:
            self.loading = False
        log.info("DB loaded from append only file: {count} commands",
                 count=self.loaded_commands)
        self.enable()

    def enable(self) -> None:
        """Open the AOF and propagate every write to it from now on."""
        service = self.service
        aof = AppendOnlyFile(service.store, service.settings, service.clock)
        aof.open()
        aof.on_rewrite_done = self._rewritten
        self.aof = aof
        propagator = Propagator(service.store, aof.feed)
        propagator.before_reply = aof.flush

        def write_status(error: str | None) -> None:
            propagator.write_error = error

        aof.on_write_status = write_status
        self._attach(propagator)

    def set_appendonly(self, on: bool) -> None:
        """Switch the AOF at run time (CONFIG SET appendonly).

        Turning it on first writes the whole dataset to the file (Redis
        starts with a rewrite too, in the background), so that the file
        holds everything the writes that follow build on.
        """
        self.service.settings.appendonly = on
        if on and self.aof is None:
            if self._detached is not None:
                self._detached.kill_rewrite()
                self._detached = None
            settings = self.service.settings
            path = os.path.join(settings.dir, settings.appendfilename)
            os.makedirs(settings.dir or ".", exist_ok=True)
            write_snapshot(self.service.store, path + ".temp-enable", self.service.store.now_ms())
            os.replace(path + ".temp-enable", path)
            self.enable()
        elif not on and self.aof is not None:
            self.stop()

    def _attach(self, propagator: Propagator | None) -> None:
        self.service.store.propagator = propagator
        for client in self.service.clients.values():
            client._propagator = propagator

    def stop(self) -> None:
        """Flush, fsync and close the AOF (service stop, SHUTDOWN)."""
        for aof in (self.aof, self._detached):
            if aof is not None:
                aof.close()
        self._detached = None
        if self.aof is not None:
            self.aof = None
            self._attach(None)

    # -- commands --------------------------------------------------------------

    @property
    def rewriting(self) -> bool:
        """True while a background rewrite (BGREWRITEAOF or BGSAVE) runs."""
        return any(aof is not None and aof.rewriting for aof in (self.aof, self._detached))

    def _rewriter(self) -> AppendOnlyFile:
        if self.aof is not None:
            return self.aof
        if self._detached is None:
            service = self.service
            self._detached = AppendOnlyFile(service.store, service.settings, service.clock)
            self._detached.on_rewrite_done = self._rewritten
        return self._detached

    def bgrewriteaof(self) -> None:
        """Start a background rewrite, or raise Redis's error if one runs."""
        if self.rewriting:
            raise CommandError("ERR Background append only file rewriting already in progress")
        self._rewriter().start_rewrite()

    def bgsave(self, schedule: bool = False) -> str:
        """BGSAVE: a background rewrite; its reply text."""
        if self.rewriting:
            if schedule:
                self._rewriter().rewrite_scheduled = True
                self._bgsave = True
                return "Background saving scheduled"
            raise CommandError(
                "ERR Another child process is active (AOF?): can't BGSAVE right now. "
                "Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible."
            )
        self._rewriter().start_rewrite()
        self._bgsave = True
        return "Background saving started"

    def save(self) -> None:
        """SAVE: write the compacted file now, in the foreground."""
        if self.rewriting:
            raise CommandError("ERR Background save already in progress")
        if self.aof is not None:
            self.aof.rewrite_now()
        else:
            settings = self.service.settings
            path = os.path.join(settings.dir, settings.appendfilename)
            temp = path + ".temp-save"
            os.makedirs(settings.dir or ".", exist_ok=True)
            write_snapshot(self.service.store, temp, self.service.store.now_ms())
            os.replace(temp, path)
        self._saved()

    def _rewritten(self) -> None:
        # Only a save (not BGREWRITEAOF) counts for LASTSAVE and
        # rdb_changes_since_last_save, as in Redis.
        if self._bgsave:
            self._bgsave = False
            self._saved()

    def _saved(self) -> None:
        self.last_save = int(self.service.clock.seconds())
        self.dirty_at_save = self.service.store.dirty

    def shutdown(self, save: bool | None, force: bool) -> None:
        """SHUTDOWN: persist, close every client, stop the reactor.

        ``save`` True writes a compacted file (SAVE), None/False only flushes
        and fsyncs the AOF (there are no save points to honour).
        """
        log.info("User requested shutdown...")
        try:
            if self.rewriting:
                log.info("There is a child rewriting the AOF. Killing it!")
                for aof in (self.aof, self._detached):
                    if aof is not None:
                        aof.kill_rewrite()
            if save:
                self.save()
            if self.aof is not None:
                log.info("Calling fsync() on the AOF file.")
                self.aof.fsync()
        except (OSError, CommandError) as error:
            log.error("Error trying to save the DB, can't exit: {error}", error=error)
            if not force:
                raise CommandError("ERR Errors trying to SHUTDOWN. Check logs.") from None
        self.shutting_down = True
        # Stop accepting now: the listeners are the store service's siblings.
        parent = self.service.parent
        if parent is not None:
            for sibling in list(parent):
                if sibling is not self.service and sibling.running:
                    sibling.stopService()
        self.stop()
        for client in list(self.service.clients.values()):
            client.close_after_reply()
            if client._out is None:
                client.transport.loseConnection()
        log.info("Hush is now ready to exit, bye bye...")
        stop = getattr(self.service.clock, "stop", None)
        if stop is not None:
            self.service.clock.callLater(0, stop)

    # -- INFO ------------------------------------------------------------------

    def info_fields(self) -> list[tuple[str, Any]]:
        """The # Persistence section of INFO."""
        aof = self.aof
        rewriter = aof or self._detached
        now = self.service.clock.seconds()
        running = rewriter is not None and rewriter.rewriting
        store = self.service.store
        fields: list[tuple[str, Any]] = [
            ("loading", 1 if self.loading else 0),
            ("async_loading", 0),
            ("current_cow_peak", 0),
            ("current_cow_size", 0),
            ("current_cow_size_age", 0),
            ("current_fork_perc", "0.00"),
            ("current_save_keys_processed", 0),
            ("current_save_keys_total", 0),
            ("rdb_changes_since_last_save", store.dirty - self.dirty_at_save),
            ("rdb_bgsave_in_progress", 0),
            ("rdb_last_save_time", self.last_save),
            ("rdb_last_bgsave_status", "ok"),
            ("rdb_last_bgsave_time_sec", -1),
            ("rdb_current_bgsave_time_sec", -1),
            ("rdb_saves", 0),
            ("rdb_last_cow_size", 0),
            ("rdb_last_load_keys_expired", 0),
            ("rdb_last_load_keys_loaded", 0),
            ("aof_enabled", 1 if aof is not None else 0),
            ("aof_rewrite_in_progress", 1 if running else 0),
            ("aof_rewrite_scheduled", 1 if rewriter is not None and rewriter.rewrite_scheduled
             else 0),
            ("aof_last_rewrite_time_sec", rewriter.last_rewrite_seconds if rewriter else -1),
            ("aof_current_rewrite_time_sec",
             int(now - rewriter.rewrite_started_at) if running and rewriter else -1),
            ("aof_last_bgrewrite_status",
             "ok" if rewriter is None or rewriter.last_rewrite_ok else "err"),
            ("aof_rewrites", rewriter.rewrites if rewriter else 0),
            ("aof_rewrites_consecutive_failures", 0),
            ("aof_last_write_status", "ok" if aof is None or aof.last_write_ok else "err"),
            ("aof_last_cow_size", 0),
            ("module_fork_in_progress", 0),
            ("module_fork_last_cow_size", 0),
        ]
        if aof is not None:
            fields += [
                ("aof_current_size", aof.current_size),
                ("aof_base_size", aof.base_size),
                ("aof_pending_rewrite", 1 if aof.rewrite_scheduled else 0),
                ("aof_buffer_length", sum(len(chunk) for chunk in aof.buf)),
                ("aof_pending_bio_fsync", 0),
                ("aof_delayed_fsync", 0),
            ]
        return fields
