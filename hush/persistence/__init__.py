"""Durability: the append-only file, propagation of effects, loading.
"""
