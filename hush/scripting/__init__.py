"""Lua scripting: the engine, conversions, the sandbox and its libraries.
"""
