"""Settings under Redis's names, with Redis's defaults, kinds, errors and files.

- :mod:`hush.config.kinds` -- the kinds of values (int, memory, enum, save
  points, output limits, ...): how Redis 7.0 parses each, with its error
  texts, shows it in CONFIG GET and writes it in CONFIG REWRITE; and
  :class:`~hush.config.kinds.Setting`, one row of a table.
- :mod:`hush.config.directives` -- Redis 7.0's directives Hush keeps and
  shows without acting on them, with a note of what Hush does instead.
- :mod:`hush.config.table` -- the settings Hush acts on (``TABLE``), and every
  setting by name or alias (``BY_NAME``).
- :mod:`hush.config.endpoints` -- ``port``/``bind``/``unixsocket`` as Twisted
  endpoints, and ``tcp-backlog`` on each listener.
- :mod:`hush.config.settings` -- :class:`~hush.config.settings.Settings`, the
  values of one server: CONFIG GET, CONFIG SET (all or none) and the
  listeners told of a change; ``DEFAULTS``.
- :mod:`hush.config.files` -- ``redis.conf``-style files: reading (quoting,
  ``include``, Redis's fatal reports) and CONFIG REWRITE.

Each module imports only those listed above it (and the floors below).
"""
