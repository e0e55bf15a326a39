"""One module per Redis value type: everything Hush knows about it.
"""
