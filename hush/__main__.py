"""``python -m hush``: the ``hush`` command (see :mod:`hush.cli`)."""

from hush.cli import main

if __name__ == "__main__":
    main()
