"""``python -m framing`` and the ``framing`` console script."""

import gc


def main() -> None:
    """Run the command line, the cyclic garbage collector off while it starts.

    Start-up (importing typer, numpy and the command's modules, building the command)
    allocates much and frees little: the collector ran about 57 times for nothing
    there (about 7 ms of CPU of every command). It is switched on again when the
    command's own code starts (``framing.cli``), or when ``framing tag`` has loaded its
    model.
    """
    gc.disable()
    from framing.cli import main as cli_main

    cli_main()


if __name__ == "__main__":
    main()
