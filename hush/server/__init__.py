"""The top floor, Twisted-facing: the service wiring, the connection
protocol, authentication, limits, client pause, memory admission.
"""
