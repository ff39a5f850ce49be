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


#: Transport schemes a Dask scheduler address may name.
SCHEDULER_SCHEMES = ("tcp", "tls", "ucx", "ws", "wss")


def scheduler_address(text: str) -> str:
    """An argparse ``type`` for a Dask scheduler address: ``[tcp://]host:port``."""
    value = text.strip()
    scheme, sep, rest = value.partition("://")
    if not sep:
        scheme, rest = "tcp", value
    host, colon, port = rest.rpartition(":")
    host = host.strip("[]")  # [::1]:8786
    if scheme.lower() not in SCHEDULER_SCHEMES or not colon or not host or "/" in rest:
        raise argparse.ArgumentTypeError(f"must look like tcp://HOST:PORT (e.g. tcp://10.0.0.5:8786), got {text!r}")
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        raise argparse.ArgumentTypeError(f"needs a port from 1 to 65535, got {text!r}")
    return f"{scheme.lower()}://{rest}"
