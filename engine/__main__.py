"""``python -m engine`` — the same command line as the ``fapisim`` script."""

from engine.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
