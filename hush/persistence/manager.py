# -*- test-case-name: tests.unit.persistence.test_aof -*-
"""The server's persistence: loading the AOF at start, the AOF while running, saves, shutdown.

Hush has no RDB format. Its only file is the append-only file, in Redis's
format; SAVE and BGSAVE therefore write a compacted AOF (what BGREWRITEAOF
writes) to ``<dir>/<appendfilename>``, so that whatever they save is what a
restart with ``appendonly yes`` loads back. They answer with Redis's texts.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from twisted.logger import Logger

from hush.core.errors import CommandError
from hush.core.interfaces import Server
from hush.persistence.aof import AOFError, AppendOnlyFile, replace_with_snapshot, temp_files
from hush.persistence.loader import load
from hush.persistence.propagation import Propagator

log = Logger()


class Persistence:
    """The AOF of one server, and what SAVE/SHUTDOWN do.

    One background child at a time writes the compacted file, for BGSAVE (a
    "save") or for BGREWRITEAOF, an automatic rewrite or a scheduled one (a
    "rewrite"); INFO reports each kind where Redis reports its RDB and AOF
    children. A command that finds the other kind running is scheduled, as
    in Redis, and its child starts when the running one ends.

    @ivar aof: the open append-only file while ``appendonly`` is on, else None.
    @ivar last_save: unix second of the last successful save (LASTSAVE).
    """

    def __init__(self, service: Server) -> None:
        self.service = service
        self.aof: AppendOnlyFile | None = None
        # A rewrite started while the AOF is off (BGSAVE, BGREWRITEAOF).
        self._detached: AppendOnlyFile | None = None
        self.last_save = int(service.clock.seconds())
        self.loading = False
        self.loaded_commands = 0
        self.shutting_down = False
        self.dirty_at_save = 0
        # What the running child is for (meaningful while one runs).
        self._child_is_save = False
        self._dirty_at_fork = 0
        self.rewrite_scheduled = False
        self.bgsave_scheduled = False
        # INFO persistence.
        self.rdb_saves = 0
        self.aof_rewrites = 0
        self.rewrite_failures = 0
        self.last_bgsave_ok = True
        self.last_bgsave_seconds = -1
        self.last_rewrite_ok = True
        self.last_rewrite_seconds = -1

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
        aof = self._new_file()
        aof.open()
        aof.on_growth = self._grown
        self.aof = aof
        propagator = Propagator(service.store, aof.feed)
        propagator.before_reply = aof.flush

        def write_status(error: str | None) -> None:
            propagator.write_error = error

        aof.on_write_status = write_status
        self._attach(propagator)

    def _new_file(self) -> AppendOnlyFile:
        service = self.service
        aof = AppendOnlyFile(service.store, service.settings, service.clock)
        aof.on_child_exit = self._child_exited
        aof.library_sources = service.functions.dump_sources
        return aof

    def set_appendonly(self, on: bool) -> None:
        """Switch the AOF at run time (CONFIG SET appendonly).

        Turning it on first writes the whole dataset to the file (Redis
        starts with a rewrite too, in the background, and counts it in
        aof_rewrites), so that the file holds everything the writes that
        follow build on.
        """
        self.service.settings.appendonly = on
        if on and self.aof is None:
            saving = self.saving
            if self._detached is not None:
                # Its file would replace the one written here with an older dataset.
                self._detached.kill_rewrite()
                self._detached = None
            settings = self.service.settings
            started = self.service.clock.seconds()
            replace_with_snapshot(self.service.store,
                                  os.path.join(settings.dir, settings.appendfilename),
                                  temp_files(os.getpid())[0],
                                  self.service.functions.dump_sources())
            self.aof_rewrites += 1
            self.last_rewrite_ok = True
            self.last_rewrite_seconds = int(self.service.clock.seconds() - started)
            if saving:
                # The file just written holds all the interrupted BGSAVE would have.
                self.last_bgsave_ok = True
                self._saved()
            self.enable()
        elif not on and self.aof is not None:
            self.stop()

    def _attach(self, propagator: Propagator | None) -> None:
        self.service.store.propagator = propagator
        for client in self.service.clients.values():
            client.propagator = propagator

    def stop(self) -> None:
        """Flush, fsync and close the AOF (service stop, SHUTDOWN)."""
        for aof in (self.aof, self._detached):
            if aof is not None:
                aof.close()
        self._detached = None
        if self.aof is not None:
            self.aof = None
            self._attach(None)

    # -- background children ----------------------------------------------------

    @property
    def rewriting(self) -> bool:
        """True while a background child (BGREWRITEAOF or BGSAVE) runs."""
        return any(aof is not None and aof.rewriting for aof in (self.aof, self._detached))

    @property
    def saving(self) -> bool:
        """True while the running child is a BGSAVE's."""
        return self._child_is_save and self.rewriting

    def _rewriter(self) -> AppendOnlyFile:
        if self.aof is not None:
            return self.aof
        if self._detached is None:
            self._detached = self._new_file()
        return self._detached

    def _start_child(self, save: bool, counted: bool = True) -> None:
        """Fork the child of a save or a rewrite; the counters count it at once, as Redis's."""
        if save:
            self.bgsave_scheduled = False
            self._dirty_at_fork = self.service.store.dirty
        else:
            self.rewrite_scheduled = False
        self._rewriter().start_rewrite()
        self._child_is_save = save
        if counted:
            if save:
                self.rdb_saves += 1
            else:
                self.aof_rewrites += 1

    def _child_exited(self, ok: bool, seconds: int) -> None:
        if self._child_is_save:
            self.last_bgsave_ok = ok
            self.last_bgsave_seconds = seconds
            if ok:
                self._saved(self._dirty_at_fork)
        else:
            self.last_rewrite_ok = ok
            self.last_rewrite_seconds = seconds
            self.rewrite_failures = 0 if ok else self.rewrite_failures + 1
        self._start_scheduled()

    def _start_scheduled(self) -> None:
        """Start what waited for the running child (or for the end of EXEC)."""
        if self.rewriting or self.shutting_down:
            return
        try:
            if self.rewrite_scheduled:
                self._start_child(save=False)
            elif self.bgsave_scheduled:
                self._start_child(save=True)
        except OSError as error:
            log.error("Can't start a scheduled background save or rewrite: {error}",
                      error=error)

    def _start_scheduled_soon(self) -> None:
        # Inside EXEC nothing forks: Redis's cron starts it after the transaction.
        self.service.clock.callLater(0, self._start_scheduled)

    def _grown(self) -> None:
        if not self.rewriting:
            self._start_child(save=False)

    # -- commands --------------------------------------------------------------

    def bgrewriteaof(self, in_exec: bool = False) -> str:
        """BGREWRITEAOF: start a background rewrite, or schedule it; its reply text."""
        if self.rewriting and not self._child_is_save:
            raise CommandError("ERR Background append only file rewriting already in progress")
        if self.rewriting or in_exec:
            self.rewrite_scheduled = True
            # Asked for by hand: the next one starts whatever failed before.
            self.rewrite_failures = 0
            if not self.rewriting:
                self._start_scheduled_soon()
            return "Background append only file rewriting scheduled"
        self._start_child(save=False)
        return "Background append only file rewriting started"

    def bgsave(self, schedule: bool = False, in_exec: bool = False) -> str:
        """BGSAVE: a background rewrite; its reply text."""
        if self.saving:
            raise CommandError("ERR Background save already in progress")
        if self.rewriting or in_exec:
            if not (schedule or in_exec):
                raise CommandError(
                    "ERR Another child process is active (AOF?): can't BGSAVE right now. "
                    "Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible."
                )
            self.bgsave_scheduled = True
            if not self.rewriting:
                self._start_scheduled_soon()
            return "Background saving scheduled"
        self._start_child(save=True)
        return "Background saving started"

    def save(self) -> None:
        """SAVE: write the compacted file now, in the foreground."""
        if self.saving:
            raise CommandError("ERR Background save already in progress")
        self.rdb_saves += 1
        self._save_now()

    def _save_now(self) -> None:
        if self.aof is not None:
            self.aof.rewrite_now()
        else:
            detached = self._detached
            restart = detached is not None and detached.rewriting
            if restart:
                # A rewrite with the AOF off would install its older dataset
                # over this save's: it starts again once the save is written.
                detached.kill_rewrite()
            settings = self.service.settings
            try:
                replace_with_snapshot(self.service.store,
                                      os.path.join(settings.dir, settings.appendfilename),
                                      temp_files(os.getpid())[0],
                                      self.service.functions.dump_sources())
            finally:
                if restart:
                    self._start_child(save=False, counted=False)
        self._saved()

    def _saved(self, dirty: int | None = None) -> None:
        # Writes made while a BGSAVE child ran are not in its file: they
        # still count as changes since the last save.
        self.last_save = int(self.service.clock.seconds())
        self.dirty_at_save = self.service.store.dirty if dirty is None else dirty

    def reset_stats(self) -> None:
        """CONFIG RESETSTAT: zero the counters of saves and rewrites."""
        self.rdb_saves = 0
        self.aof_rewrites = 0
        self.rewrite_failures = 0

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
                # Not counted in rdb_saves: Redis counts the SAVE command only.
                self._save_now()
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
            client.connection.disconnect()
        # The goodbye is logged once, by hush.server.startup, as the services stop.
        stop = getattr(self.service.clock, "stop", None)
        if stop is not None:
            self.service.clock.callLater(0, stop)

    # -- INFO ------------------------------------------------------------------

    def info_fields(self) -> list[tuple[str, Any]]:
        """The # Persistence section of INFO."""
        aof = self.aof
        rewriter = aof or self._detached
        running = rewriter is not None and rewriter.rewriting
        elapsed = int(self.service.clock.seconds() - rewriter.rewrite_started_at) if running else -1
        saving = running and self._child_is_save
        rewriting = running and not self._child_is_save
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
            ("rdb_bgsave_in_progress", 1 if saving else 0),
            ("rdb_last_save_time", self.last_save),
            ("rdb_last_bgsave_status", "ok" if self.last_bgsave_ok else "err"),
            ("rdb_last_bgsave_time_sec", self.last_bgsave_seconds),
            ("rdb_current_bgsave_time_sec", elapsed if saving else -1),
            ("rdb_saves", self.rdb_saves),
            ("rdb_last_cow_size", 0),
            ("rdb_last_load_keys_expired", 0),
            ("rdb_last_load_keys_loaded", 0),
            ("aof_enabled", 1 if aof is not None else 0),
            ("aof_rewrite_in_progress", 1 if rewriting else 0),
            ("aof_rewrite_scheduled", 1 if self.rewrite_scheduled else 0),
            ("aof_last_rewrite_time_sec", self.last_rewrite_seconds),
            ("aof_current_rewrite_time_sec", elapsed if rewriting else -1),
            ("aof_last_bgrewrite_status", "ok" if self.last_rewrite_ok else "err"),
            ("aof_rewrites", self.aof_rewrites),
            ("aof_rewrites_consecutive_failures", self.rewrite_failures),
            ("aof_last_write_status", "ok" if aof is None or aof.last_write_ok else "err"),
            ("aof_last_cow_size", 0),
            ("module_fork_in_progress", 0),
            ("module_fork_last_cow_size", 0),
        ]
        if aof is not None:
            fields += [
                ("aof_current_size", aof.current_size),
                ("aof_base_size", aof.base_size),
                ("aof_pending_rewrite", 1 if self.rewrite_scheduled else 0),
                ("aof_buffer_length", sum(len(chunk) for chunk in aof.buf)),
                ("aof_pending_bio_fsync", 0),
                ("aof_delayed_fsync", 0),
            ]
        return fields
