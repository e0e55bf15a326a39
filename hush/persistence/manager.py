# -*- test-case-name: tests.unit.persistence.test_rdb -*-
"""The server's persistence: loading at start, the AOF while running, RDB saves, shutdown.

Two files, as in Redis: the append-only file (``<dir>/<appendfilename>``, on
with ``appendonly yes``) and the RDB snapshot (``<dir>/<dbfilename>``). At
start the AOF is loaded when it is on, else the dump file if there is one.
SAVE writes the dump file in the foreground, BGSAVE in a forked child, and
``save <seconds> <changes>`` points start a BGSAVE from a once-a-second check;
SHUTDOWN (and a stop by signal, per ``shutdown-on-sigterm``) saves when asked
to or when save points are set. BGREWRITEAOF rewrites the AOF in a forked
child, starting with an RDB preamble under ``aof-use-rdb-preamble yes``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any

from twisted.internet.interfaces import IDelayedCall
from twisted.internet.task import LoopingCall
from twisted.logger import Logger

from hush.core.errors import CommandError
from hush.core.interfaces import Server
from hush.formats.rdb import RdbError
from hush.persistence import rdb
from hush.persistence.aof import AOFError, AppendOnlyFile, replace_with_snapshot, temp_files
from hush.persistence.loader import load
from hush.persistence.propagation import Op, Propagator

log = Logger()

#: Seconds between checks on a save child.
CHILD_POLL = 0.05
#: Seconds a failed automatic BGSAVE waits before the next try (CONFIG_BGSAVE_RETRY_DELAY).
BGSAVE_RETRY_DELAY = 5

class Persistence:
    """The AOF and the dump file of one server, and what SAVE/SHUTDOWN do.

    One background child at a time: a BGSAVE's (a "save") or a rewrite's
    (BGREWRITEAOF, an automatic rewrite or a scheduled one). A command that
    finds the other kind running is scheduled, as in Redis, and its child
    starts when the running one ends.

    @ivar aof: the open append-only file while ``appendonly`` is on, else None.
    @ivar last_save: unix second of the last successful save (LASTSAVE).
    @ivar unclaimed_functions: libraries a loaded file held on a server
        without FUNCTION libraries (``service.functions``); written back to
        the next files.
    @ivar refusing_writes: True while writes get :data:`hush.commands.dispatch.MISCONF_RDB`: the
        last BGSAVE failed, save points are set and stop-writes-on-bgsave-error
        is on (the dispatcher's gate reads it).
    """

    def __init__(self, service: Server) -> None:
        self.service = service
        self.aof: AppendOnlyFile | None = None
        # A rewrite started while the AOF is off (BGREWRITEAOF).
        self._detached: AppendOnlyFile | None = None
        self.unclaimed_functions: list[bytes] = []
        #: Where writes go besides the AOF: the replication stream (set_replication_sink).
        self.replication_sink: Callable[[list[Op]], None] | None = None
        self.last_save = int(service.clock.seconds())
        self.loading = False
        self._started = False
        self.loaded_commands = 0
        self.shutting_down = False
        self.dirty_at_save = 0
        self._dirty_at_fork = 0
        self.rewrite_scheduled = False
        self.bgsave_scheduled = False
        # The BGSAVE child.
        self.save_child = 0
        #: True while the child streams a diskless sync's snapshot (not the dump file).
        self.save_to_socket = False
        #: Called as listener(ok, to_socket) when a save child ends (replication waits on them).
        self.save_ended: list[Callable[[bool, bool], None]] = []
        self.save_started_at = 0.0
        self._save_poll: IDelayedCall | None = None
        self._cron: LoopingCall | None = None
        self._last_bgsave_try = 0.0
        # INFO persistence.
        self.rdb_saves = 0
        self.aof_rewrites = 0
        self.rewrite_failures = 0
        self.last_bgsave_ok = True
        self.last_bgsave_seconds = -1
        self.last_rewrite_ok = True
        self.last_rewrite_seconds = -1
        self.keys_loaded = 0
        self.keys_expired = 0
        self.refusing_writes = False
        settings = service.settings
        settings.on_change("save", self._saving_settings_changed)
        settings.on_change("stop-writes-on-bgsave-error", self._saving_settings_changed)

    def _saving_settings_changed(self, _value: Any) -> None:
        self._update_refusal()

    def _update_refusal(self) -> None:
        """Recompute :attr:`refusing_writes`; on a change every client's gate follows."""
        settings = self.service.settings
        refusing = (not self.last_bgsave_ok and bool(settings.save.split())
                    and bool(rdb.setting(settings, "stop-writes-on-bgsave-error")))
        if refusing != self.refusing_writes:
            self.refusing_writes = refusing
            for client in self.service.clients.values():
                client.update_gate()

    @property
    def rdb_path(self) -> str:
        """``<dir>/<dbfilename>``."""
        settings = self.service.settings
        return os.path.join(settings.dir, rdb.setting(settings, "dbfilename"))

    # -- life cycle ----------------------------------------------------------

    def start(self) -> None:
        """Load the data (the AOF when ``appendonly`` is on, else the dump file), start the cron.

        A file that cannot be loaded stops the server with Redis's message
        naming the byte offset, rather than starting with missing data.
        """
        settings = self.service.settings
        if self._started:
            return
        self._started = True
        if settings.appendonly:
            self._load_aof()
            self.enable()
        else:
            self._load_rdb()
        self._arm_cron()

    def _refuse_start(self, message: str) -> None:
        log.critical("{message}", message=message)
        print(f"hush: {message}", file=sys.stderr)
        raise SystemExit(1)

    def _load_aof(self) -> None:
        settings = self.service.settings
        path = os.path.join(settings.dir, settings.appendfilename)
        self.loading = True
        try:
            self.loaded_commands = load(self.service, path, settings.aof_load_truncated)
        except AOFError as error:
            self._refuse_start(str(error))
        finally:
            self.loading = False
        log.info("DB loaded from append only file: {count} commands",
                 count=self.loaded_commands)

    def _load_rdb(self) -> None:
        path = self.rdb_path
        try:
            handle = open(path, "rb")
        except FileNotFoundError:
            return
        except OSError as error:
            self._refuse_start(f"Fatal error loading the DB: {error.strerror}. Exiting.")
            return
        clock = self.service.clock
        started = clock.seconds()
        self.loading = True
        self.service.store.loading = True
        try:
            with handle:
                result = rdb.load_dataset(self.service.store, handle,
                                          now_ms=int(clock.seconds() * 1000))
        except RdbError as error:
            self._refuse_start(f"{error}. Terminating server after rdb file reading failure.")
            return
        finally:
            self.loading = False
            self.service.store.loading = False
        try:
            self._loaded(result)
        except CommandError as error:
            self._refuse_start(f"Failed loading the RDB file's function libraries: {error}. "
                               "Terminating server after rdb file reading failure.")
            return
        log.info("Done loading RDB, keys loaded: {loaded}, keys expired: {expired}.",
                 loaded=result.keys_loaded, expired=result.keys_expired)
        log.info("DB loaded from disk: {seconds:.3f} seconds",
                 seconds=clock.seconds() - started)

    def _loaded(self, result: rdb.LoadResult, replace_functions: bool = False) -> None:
        """After a load: INFO's counts, the libraries loaded, maxkeys applied.

        Raises CommandError when a library does not load.
        """
        self.keys_loaded = result.keys_loaded
        self.keys_expired = result.keys_expired
        self.install_functions(result.functions, replace_functions)
        store = self.service.store
        if store.maxkeys:
            for db in store.dbs:
                if len(db) > store.maxkeys:
                    log.warn("Database {db} holds {count} keys, more than maxkeys {maxkeys}: "
                             "keys are evicted by {policy} (start with --maxkeys 0 to keep "
                             "them all)", db=db.index, count=len(db),
                             maxkeys=store.maxkeys, policy=store.maxkeys_policy)
        store.enforce_maxkeys()

    @property
    def functions(self) -> Any:
        """The server's FUNCTION libraries (``dump_sources``, ``load_sources``), or None."""
        return getattr(self.service, "functions", None)

    def install_functions(self, codes: list[bytes], replace: bool = False) -> None:
        """Load a file's function libraries (``replace``: dropping those there first).

        Raises CommandError naming the library that failed to load.
        """
        functions = self.functions
        if functions is None:
            if codes:
                log.warn("{count} function libraries loaded are kept but not served: "
                         "this server has no FUNCTION libraries", count=len(codes))
            self.unclaimed_functions = list(codes)
            return
        if replace:
            functions.flush()
        functions.load_sources(codes)

    def library_codes(self) -> list[bytes]:
        """The function libraries' code a file written now holds."""
        functions = self.functions
        if functions is not None:
            return functions.dump_sources()
        return list(self.unclaimed_functions)

    def enable(self) -> None:
        """Open the AOF and propagate every write to it from now on."""
        aof = self._new_file()
        aof.open()
        aof.on_growth = self._grown
        self.aof = aof
        aof.on_write_status = self._aof_write_status
        self._install()

    def _aof_write_status(self, error: str | None) -> None:
        propagator = self.service.store.propagator
        if propagator is not None:
            propagator.write_error = error

    def set_replication_sink(self, sink: Callable[[list[Op]], None] | None) -> None:
        """Propagate every write to ``sink`` too (a master's replication stream), or stop.

        Only while a master keeps a backlog: otherwise writes pay nothing for it.
        """
        self.replication_sink = sink
        self._install()

    def _install(self) -> None:
        """Point the store's propagator at the AOF and the replication stream, whichever
        are on, or remove it when neither is."""
        aof, stream = self.aof, self.replication_sink
        propagator = self.service.store.propagator
        if aof is None and stream is None:
            if propagator is not None:
                self._attach(None)
            return
        if aof is None:
            sink = stream
        elif stream is None:
            sink = aof.feed
        else:
            sink = _both(aof.feed, stream)
        if propagator is None:
            propagator = Propagator(self.service.store, sink)
            self._attach(propagator)
        propagator.sink = sink
        propagator.before_reply = aof.flush if aof is not None else _nothing
        if aof is None:
            propagator.write_error = None

    def _new_file(self) -> AppendOnlyFile:
        service = self.service
        aof = AppendOnlyFile(service.store, service.settings, service.clock)
        aof.on_child_exit = self._rewrite_exited
        aof.library_sources = self._rewrite_library_codes
        return aof

    def _rewrite_library_codes(self) -> list[bytes]:
        # Without a functions engine a rewrite without preamble could only
        # write FUNCTION LOAD commands that no load could replay.
        if self.functions is None and not rdb.setting(self.service.settings,
                                                      "aof-use-rdb-preamble"):
            return []
        return self.library_codes()

    def set_appendonly(self, on: bool) -> None:
        """Switch the AOF at run time (CONFIG SET appendonly).

        Turning it on first writes the whole dataset to the file (Redis
        starts with a rewrite too, in the background, and counts it in
        aof_rewrites), so that the file holds everything the writes that
        follow build on.
        """
        self.service.settings.appendonly = on
        if on and self.aof is None:
            if self._detached is not None:
                # Its file would replace the one written here with an older dataset.
                self._detached.kill_rewrite()
                self._detached = None
            settings = self.service.settings
            started = self.service.clock.seconds()
            replace_with_snapshot(self.service.store,
                                  os.path.join(settings.dir, settings.appendfilename),
                                  temp_files(os.getpid())[0],
                                  self._rewrite_library_codes(), settings)
            self.aof_rewrites += 1
            self.last_rewrite_ok = True
            self.last_rewrite_seconds = int(self.service.clock.seconds() - started)
            self.enable()
        elif not on and self.aof is not None:
            self.stop()

    def _attach(self, propagator: Propagator | None) -> None:
        self.service.store.propagator = propagator
        for client in self.service.clients.values():
            client.propagator = propagator
            # The AOF takes the client off its connection's lean lane.
            client.update_gate()

    def stop(self) -> None:
        """Flush, fsync and close the AOF (service stop, SHUTDOWN, appendonly off)."""
        for aof in (self.aof, self._detached):
            if aof is not None:
                aof.close()
        self._detached = None
        if self.aof is not None:
            self.aof = None
            self._install()

    def service_stopped(self) -> None:
        """The server stops without SHUTDOWN (a signal): save as ``shutdown-on-sigterm`` says."""
        self._stop_cron()
        if not self.shutting_down:
            flags = str(rdb.setting(self.service.settings, "shutdown-on-sigterm")).split()
            save = True if "save" in flags else False if "nosave" in flags else None
            self.shutting_down = True
            self._kill_children()
            if self._wants_save(save):
                try:
                    self._save_now()
                except OSError as error:
                    log.error("Error trying to save the DB: {error}", error=error)
        self._kill_children()
        self.stop()

    # -- background children ----------------------------------------------------

    @property
    def saving(self) -> bool:
        """True while a BGSAVE child runs."""
        return bool(self.save_child)

    @property
    def aof_rewriting(self) -> bool:
        """True while a rewrite child runs."""
        return any(aof is not None and aof.rewriting for aof in (self.aof, self._detached))

    @property
    def rewriting(self) -> bool:
        """True while a background child (BGREWRITEAOF or BGSAVE) runs."""
        return self.saving or self.aof_rewriting

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
            self._fork_save()
        else:
            self.rewrite_scheduled = False
            self._rewriter().start_rewrite()
        if counted:
            if save:
                self.rdb_saves += 1
            else:
                self.aof_rewrites += 1

    def _fork_save(self, extra_aux: dict[bytes, bytes] | None = None,
                   stream: tuple[int, bytes] | None = None) -> None:
        """Fork a child that writes the dump file (BGSAVE), or streams it into a pipe."""
        service = self.service
        clock = service.clock
        self._last_bgsave_try = clock.seconds()
        self._dirty_at_fork = service.store.dirty
        if self.aof is not None:
            self.aof.flush()
        path = self.rdb_path
        codes = self.library_codes()
        now_s = int(clock.seconds())
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            code = 1
            try:
                if stream is None:
                    code = rdb.save_child(service.store, service.settings, path, now_s, parent,
                                          codes, extra_aux)
                else:
                    code = rdb.stream_child(service.store, service.settings, stream[0],
                                            stream[1], now_s, codes, extra_aux)
            finally:
                os._exit(code)
        self.save_child = pid
        self.save_to_socket = stream is not None
        self.save_started_at = clock.seconds()
        if stream is None:
            log.info("Background saving started by pid {pid}", pid=pid)
        else:
            log.info("Background RDB transfer started by pid {pid}", pid=pid)
        self._save_poll = clock.callLater(CHILD_POLL, self._check_save_child)

    def bgsave_for_replication(self, extra_aux: dict[bytes, bytes],
                               stream: tuple[int, bytes] | None = None) -> bool:
        """Start the snapshot a full sync sends; False while another child runs.

        Without ``stream`` the child writes the dump file, as BGSAVE does
        (counted in rdb_saves, as Redis counts it); with ``stream`` (the write
        end of a pipe and the EOF mark) it streams the snapshot into the pipe
        (a diskless sync). :attr:`save_ended` listeners hear when it ends.
        """
        if self.rewriting or self.shutting_down:
            return False
        self.bgsave_scheduled = False
        self._fork_save(extra_aux, stream)
        if stream is None:
            self.rdb_saves += 1
        return True

    def _check_save_child(self) -> None:
        self._save_poll = None
        child = self.save_child
        if not child:
            return
        pid, status = os.waitpid(child, os.WNOHANG)
        if pid == 0:
            self._save_poll = self.service.clock.callLater(CHILD_POLL, self._check_save_child)
            return
        self.save_child = 0
        ok = os.waitstatus_to_exitcode(status) == 0
        seconds = int(self.service.clock.seconds() - self.save_started_at)
        to_socket = self.save_to_socket
        self.save_to_socket = False
        if to_socket:
            # A diskless sync's child: no dump file, so no save status changes.
            if ok:
                log.info("Background RDB transfer terminated with success")
            else:
                log.warn("Background transfer error")
        else:
            if ok:
                log.info("Background saving terminated with success")
            else:
                log.error("Background saving error")
                rdb.unlink(os.path.join(os.path.dirname(self.rdb_path) or ".",
                                        rdb.temp_name(child)))
            self.last_bgsave_ok = ok
            self.last_bgsave_seconds = seconds
            if ok:
                self._saved(self._dirty_at_fork)
            self._update_refusal()
        for listener in list(self.save_ended):
            listener(ok, to_socket)
        self._start_scheduled()

    def _kill_save_child(self) -> None:
        child = self.save_child
        if not child:
            return
        rdb.kill_child(child, self._save_poll)
        self.save_child = 0
        self._save_poll = None
        rdb.unlink(os.path.join(os.path.dirname(self.rdb_path) or ".", rdb.temp_name(child)))
        to_socket = self.save_to_socket
        self.save_to_socket = False
        for listener in list(self.save_ended):
            listener(False, to_socket)

    def stop_save(self) -> None:
        """Kill a running save child (a replica about to load its master's snapshot)."""
        self._kill_save_child()

    def _kill_children(self) -> None:
        self._kill_save_child()
        for aof in (self.aof, self._detached):
            if aof is not None:
                aof.kill_rewrite()

    def _rewrite_exited(self, ok: bool, seconds: int) -> None:
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

    # -- save points -------------------------------------------------------------

    def _arm_cron(self) -> None:
        # A LoopingCall: after a jump of the clock it runs once, not once per second missed.
        if self._cron is None and not self.shutting_down:
            self._cron = LoopingCall(self._save_points)
            self._cron.clock = self.service.clock
            self._cron.start(1.0, now=False)

    def _stop_cron(self) -> None:
        if self._cron is not None and self._cron.running:
            self._cron.stop()
        self._cron = None

    def _save_points(self) -> None:
        """Redis's serverCron check: start a BGSAVE when a save point is reached."""
        if self.rewriting or self.shutting_down:
            return
        words = self.service.settings.save.split()
        if not words:
            return
        now = self.service.clock.seconds()
        changes = self.service.store.dirty - self.dirty_at_save
        for index in range(0, len(words), 2):
            seconds, needed = int(words[index]), int(words[index + 1])
            # A failed save is retried only after a pause, as Redis does.
            if (changes >= needed and now - self.last_save > seconds
                    and (self.last_bgsave_ok or now - self._last_bgsave_try > BGSAVE_RETRY_DELAY)):
                log.info("{changes} changes in {seconds} seconds. Saving...",
                         changes=changes, seconds=seconds)
                try:
                    self._start_child(save=True)
                except OSError as error:
                    log.error("Can't save in background: fork: {error}", error=error)
                    self.last_bgsave_ok = False
                    self._update_refusal()
                return

    # -- commands --------------------------------------------------------------

    def bgrewriteaof(self, in_exec: bool = False) -> str:
        """BGREWRITEAOF: start a background rewrite, or schedule it; its reply text."""
        if self.aof_rewriting:
            raise CommandError("ERR Background append only file rewriting already in progress")
        if self.saving or in_exec:
            self.rewrite_scheduled = True
            # Asked for by hand: the next one starts whatever failed before.
            self.rewrite_failures = 0
            if not self.rewriting:
                self._start_scheduled_soon()
            return "Background append only file rewriting scheduled"
        self._start_child(save=False)
        return "Background append only file rewriting started"

    def bgsave(self, schedule: bool = False, in_exec: bool = False) -> str:
        """BGSAVE: fork a child that writes the dump file; its reply text."""
        if self.saving:
            raise CommandError("ERR Background save already in progress")
        if self.aof_rewriting or in_exec:
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
        """SAVE: write the dump file now, in the foreground."""
        if self.saving:
            raise CommandError("ERR Background save already in progress")
        self.rdb_saves += 1
        try:
            self._save_now()
        except OSError as error:
            log.error("Failed opening the temp RDB file {name} (in server root dir {dir}) "
                      "for saving: {error}", name=rdb.temp_name(os.getpid()),
                      dir=os.path.abspath(self.service.settings.dir), error=error)
            raise CommandError("ERR") from None

    def _save_now(self) -> None:
        path = self.rdb_path
        temp = os.path.join(os.path.dirname(path) or ".", rdb.temp_name(os.getpid()))
        rdb.save_file(self.service.store, self.service.settings, path, temp,
                      now_s=int(self.service.clock.seconds()), functions=self.library_codes())
        log.info("DB saved on disk")
        # Redis's rdbSave: any successful save clears an earlier BGSAVE failure.
        self.last_bgsave_ok = True
        self._saved()
        self._update_refusal()

    def flushed_all(self) -> None:
        """After FLUSHALL: stop a running BGSAVE and, with save points set, save the empty set.

        Redis's flushAllDataAndResetRDB: otherwise a restart would bring the
        flushed keys back from the last dump file.
        """
        if self.saving:
            self._kill_save_child()
        if self.service.settings.save.split():
            try:
                self._save_now()
            except OSError as error:
                log.error("Error saving the DB after FLUSHALL: {error}", error=error)

    def _saved(self, dirty: int | None = None) -> None:
        # Writes made while a BGSAVE child ran are not in its file: they
        # still count as changes since the last save.
        self.last_save = int(self.service.clock.seconds())
        self.dirty_at_save = self.service.store.dirty if dirty is None else dirty

    def reload(self, save: bool = True, flush: bool = True, merge: bool = False) -> None:
        """DEBUG RELOAD: save the dump file, empty the store, load the file back.

        Raises CommandError with Redis's texts when the save or the load fails.
        """
        if save:
            try:
                self._save_now()
            except OSError as error:
                log.error("Error saving the DB for DEBUG RELOAD: {error}", error=error)
                raise CommandError("ERR") from None
        store = self.service.store
        if flush:
            store.flushall()
        try:
            with open(self.rdb_path, "rb") as handle:
                result = rdb.load_dataset(store, handle, now_ms=store.now_ms(), merge=merge)
            # The loader fills the keyspace directly: cluster mode's slot index follows.
            store.reindex_slots()
            # Emptying the data empties the libraries too (Redis's emptyData).
            self._loaded(result, replace_functions=flush)
        except (OSError, RdbError, CommandError) as error:
            log.error("Error trying to load the RDB dump: {error}", error=error)
            raise CommandError("ERR Error trying to load the RDB dump") from None
        log.warn("DB reloaded by DEBUG RELOAD")

    def reset_stats(self) -> None:
        """CONFIG RESETSTAT: zero the counters of saves and rewrites."""
        self.rdb_saves = 0
        self.aof_rewrites = 0
        self.rewrite_failures = 0

    def _wants_save(self, save: bool | None) -> bool:
        # Redis saves at shutdown when asked to, or by default when it has save points.
        return save if save is not None else bool(self.service.settings.save.split())

    def shutdown(self, save: bool | None, force: bool) -> None:
        """SHUTDOWN: persist, close every client, stop the reactor.

        ``save`` True writes the dump file, False does not, None writes it
        when save points are configured; the AOF is flushed and fsynced.
        """
        log.info("User requested shutdown...")
        try:
            if self.saving:
                log.info("There is a child saving an .rdb. Killing it!")
            if self.aof_rewriting:
                log.info("There is a child rewriting the AOF. Killing it!")
            self._kill_children()
            if self.aof is not None:
                log.info("Calling fsync() on the AOF file.")
                self.aof.fsync()
            if self._wants_save(save):
                log.info("Saving the final RDB snapshot before exiting.")
                # Not counted in rdb_saves: Redis counts the SAVE command only.
                self._save_now()
        except (OSError, CommandError) as error:
            log.error("Error trying to save the DB, can't exit: {error}", error=error)
            if not force:
                raise CommandError("ERR Errors trying to SHUTDOWN. Check logs.") from None
        self.shutting_down = True
        self._stop_cron()
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
        now = self.service.clock.seconds()
        rewriting = rewriter is not None and rewriter.rewriting
        saving = self.saving
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
            ("rdb_current_bgsave_time_sec", int(now - self.save_started_at) if saving else -1),
            ("rdb_saves", self.rdb_saves),
            ("rdb_last_cow_size", 0),
            ("rdb_last_load_keys_expired", self.keys_expired),
            ("rdb_last_load_keys_loaded", self.keys_loaded),
            ("aof_enabled", 1 if aof is not None else 0),
            ("aof_rewrite_in_progress", 1 if rewriting else 0),
            ("aof_rewrite_scheduled", 1 if self.rewrite_scheduled else 0),
            ("aof_last_rewrite_time_sec", self.last_rewrite_seconds),
            ("aof_current_rewrite_time_sec",
             int(now - rewriter.rewrite_started_at) if rewriting else -1),
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


def _both(first: Callable[[list[Op]], None], second: Callable[[list[Op]], None]
          ) -> Callable[[list[Op]], None]:
    def feed(ops: list[Op]) -> None:
        first(ops)
        second(ops)
    return feed


def _nothing() -> None:
    pass
