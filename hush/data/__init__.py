"""The data: databases and keyspaces, expiry, blocking waiters, cursors,
pub/sub registry, and one module per value type in :mod:`hush.data.types`.
"""
