"""RESP on the wire: requests in (parser) and replies out (resp).
"""
