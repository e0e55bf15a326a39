"""Redis's binary formats and algorithms, as pure functions.

This floor holds what Redis encodes or computes byte for byte -- the
HyperLogLog string, geohash scores, bit operations on strings, RDB and its
encodings -- as functions over ``bytes``/``bytearray`` and plain Python
values. Nothing here knows Twisted, the store, a connection or the command
table: modules import only the standard library, :mod:`hush.errors` and
each other, so that the data types and command handlers above can call them
and the tests can pin them against a real redis-server.
"""
