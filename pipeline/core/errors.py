"""Turning an exception into what a user is shown: a plain message and the details."""
from __future__ import annotations

import re
import traceback


def describe_error(exc: BaseException) -> tuple[str, str]:
    """``(message, details)`` for ``exc``.

    The message is the exception's own text (its class name only when it has none); the
    details are the traceback, or the ``details`` an error relayed from a child process
    already carries.
    """
    message = str(exc) or type(exc).__name__
    details = getattr(exc, "details", None) or "".join(
        traceback.format_exception(type(exc), exc, exc.__traceback__))
    return message, details


def one_line(exc: BaseException) -> str:
    """The message of ``exc`` as one printable line, for a terminal or a status bar.

    File errors read ``"<what went wrong>: <file>"``; odd bytes and newlines in file
    names are escaped (see :func:`pipeline.core.paths.display_path`).
    """
    from pipeline.core.paths import display_path

    if isinstance(exc, OSError) and exc.strerror:
        name = exc.filename if exc.filename is not None else None
        message = exc.strerror if name is None else f"{exc.strerror}: {display_path(name)}"
    else:
        message = describe_error(exc)[0]
    message = message.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return " ".join(line.strip() for line in message.splitlines() if line.strip())


_CLASS_PREFIX = re.compile(r"\b(?:[a-z_][\w]*\.)*[A-Z]\w*(?:Error|Exception|Warning|Exit|Interrupt)\b:\s*")
_CLASS_ALONE = re.compile(r"(?:(?<=: )|^)(?:[a-z_][\w]*\.)*[A-Z]\w*(?:Error|Exception|Interrupt)\s*$")
_CLASS_IN_PARENS = re.compile(r"\((?:[a-z_][\w]*\.)*[A-Z]\w*(?:Error|Exception)\b:?\s*")


def plain_message(text: str) -> str:
    """``text`` without Python exception class names (``"SourceError: no images"`` -> ``"no images"``).

    What a user reads says what went wrong, not which class carried it; the class stays in
    the details (the traceback).
    """
    out = _CLASS_PREFIX.sub("", text)
    out = _CLASS_IN_PARENS.sub("(", out)
    out = _CLASS_ALONE.sub("an unexpected error (see Details)", out)
    out = re.sub(r"\(\s*\)", "", out).strip()
    return out or "An unexpected error occurred (see Details)."
