"""Redis's binary formats and algorithms, as pure functions.

This floor holds what Redis encodes or computes byte for byte -- the
HyperLogLog string, geohash scores, bit operations on strings, RDB and its
encodings -- as functions over ``bytes``/``bytearray`` and plain Python
values. Nothing here knows Twisted, the store, a connection or the command
table: modules import only the standard library, :mod:`hush.core.errors` and
each other, so that the data types and command handlers above can call them
and the tests can pin them against a real redis-server.

The data-type part (the string and sorted-set commands will call it):

- :mod:`hush.formats.hyperloglog` -- Redis's HyperLogLog strings (PFADD, PFCOUNT, PFMERGE).
- :mod:`hush.formats.geohash` -- geo scores, positions, distances and searches.
- :mod:`hush.formats.bits` -- bit operations on strings (SETBIT ... BITFIELD).

The RDB part (the persistence, DUMP and RESTORE code will call it):

- :mod:`hush.formats.crc64` -- Redis's CRC-64 (Jones polynomial) of RDB files and DUMP payloads,
  computed by crcmod-plus's C code (the one third-party import here; see pyproject.toml).
- :mod:`hush.formats.lzf` -- the LZF compression of long strings in RDB.
- :mod:`hush.formats.listpack`, :mod:`hush.formats.ziplist`, :mod:`hush.formats.intset`,
  :mod:`hush.formats.zipmap` -- Redis's compact container encodings.
- :mod:`hush.formats.rdb` -- RDB primitives (lengths, strings, doubles, times) and the
  encoding thresholds.
- :mod:`hush.formats.rdb_object` -- RDB objects <-> neutral values (what the store's types use).
- :mod:`hush.formats.rdb_stream` -- the stream value model and its RDB encoding.
- :mod:`hush.formats.rdb_payload` -- DUMP / RESTORE payloads.
- :mod:`hush.formats.rdb_file` -- dump.rdb files: a streaming reader and a chunked writer.

The cluster part (cluster mode will call it):

- :mod:`hush.formats.keyslot` -- CRC16 and the hash slot of a key (hash tags included).
- :mod:`hush.formats.nodes_conf` -- nodes.conf read and written as Redis does, and CLUSTER NODES.
- :mod:`hush.formats.cluster_replies` -- CLUSTER SLOTS, SHARDS and INFO from a nodes.conf model.
"""
