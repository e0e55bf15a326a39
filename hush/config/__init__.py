"""Settings under Redis's names: the table, value kinds, config files.
"""
