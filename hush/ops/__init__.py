"""What operators read: INFO, metrics, the slow log, MONITOR, command stats.
"""
