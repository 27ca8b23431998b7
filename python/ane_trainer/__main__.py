"""``python -m ane_trainer …`` runs the same command line as the ``ane-trainer`` binary."""

import sys

from ._native import cli_main


def main() -> int:
    return cli_main(["ane-trainer", *sys.argv[1:]])


if __name__ == "__main__":
    sys.exit(main())
