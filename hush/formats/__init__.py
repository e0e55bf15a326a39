"""Redis's binary formats and algorithms, as pure functions.

This floor holds what Redis encodes or computes byte for byte -- the
HyperLogLog string, geohash scores, bit operations on strings, RDB and its
encodings -- as functions over ``bytes``/``bytearray`` and plain Python
values. Nothing here knows Twisted, the store, a connection or the command
table: modules import only the standard library, :mod:`hush.errors` and
each other, so that the data types and command handlers above can call them
and the tests can pin them against a real redis-server.

- :mod:`~hush.formats.keyslot`: CRC16 and the hash slot of a key (hash tags included).
- :mod:`~hush.formats.nodes_conf`: nodes.conf read and written as Redis does, and CLUSTER NODES.
- :mod:`~hush.formats.cluster_replies`: CLUSTER SLOTS, SHARDS and INFO from a nodes.conf model.
"""
