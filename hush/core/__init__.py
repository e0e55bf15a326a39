"""The ground floor: error texts, glob matching, fault logging, and the
interfaces the floors above are typed against. Imports nothing of Hush.
"""
