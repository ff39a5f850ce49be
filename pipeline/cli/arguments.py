"""Argument checking for the command line: bounds with plain messages, one-line errors."""
from __future__ import annotations

import argparse
import sys
from typing import Callable, NoReturn, Optional


class OneLineParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are one ``error: ...`` line (exit status 2).

    The usage text stays available through ``--help``; subcommand parsers made with
    ``add_subparsers`` inherit the class.
    """

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {message} (see {self.prog} --help)\n")

    def exit(self, status: int = 0, message: Optional[str] = None) -> NoReturn:
        if message:
            sys.stderr.write(message)
        sys.exit(status)


def at_least(minimum: int, maximum: Optional[int] = None) -> Callable[[str], int]:
    """An argparse ``type`` for whole numbers from ``minimum`` (to ``maximum``)."""
    allowed = f"a whole number from {minimum} to {maximum}" if maximum is not None else f"a whole number, {minimum} or more"

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {allowed}, got {text!r}") from None
        if value < minimum or (maximum is not None and value > maximum):
            raise argparse.ArgumentTypeError(f"must be {allowed}, got {value}")
        return value

    parse.__name__ = "number"  # argparse names the type in some messages
    return parse
