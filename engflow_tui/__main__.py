"""``python -m engflow_tui`` and the ``engflow-tui`` command."""

from . import startup_gc


def main() -> None:
    # First, before the console's imports: see startup_gc.
    startup_gc.pause()
    from .cli import entry_point

    entry_point()


if __name__ == "__main__":
    main()
