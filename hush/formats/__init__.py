"""Redis's binary formats and algorithms, as pure functions over bytes and plain values.

This floor sits just above ``core/``: nothing here knows about Twisted, the
store, connections or the command table. Modules import only the standard
library, :mod:`hush.errors` and each other, so that the store, the persistence
code and the command handlers can all build on them.

What is here:

- :mod:`hush.formats.crc64` -- Redis's CRC-64 (Jones polynomial) used by RDB files and DUMP.
- :mod:`hush.formats.lzf` -- the LZF compression Redis uses for long strings in RDB.
- :mod:`hush.formats.listpack`, :mod:`hush.formats.ziplist`, :mod:`hush.formats.intset`,
  :mod:`hush.formats.zipmap` -- Redis's compact container encodings.
- :mod:`hush.formats.rdb` -- RDB primitives (lengths, strings, doubles, times) and the
  encoding thresholds.
- :mod:`hush.formats.rdb_object` -- RDB objects <-> neutral values (what the store's types use).
- :mod:`hush.formats.rdb_stream` -- the stream value model and its RDB encoding.
- :mod:`hush.formats.rdb_payload` -- DUMP / RESTORE payloads.
- :mod:`hush.formats.rdb_file` -- dump.rdb files: a streaming reader and a chunked writer.
"""
