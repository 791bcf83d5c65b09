"""``python -m proplab``: the same as the ``proplab`` command."""

from proplab.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
