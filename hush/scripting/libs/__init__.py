"""The Lua libraries Redis gives scripts, written for Hush.
"""
