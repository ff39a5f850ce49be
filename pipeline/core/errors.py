"""Turning an exception into what a user is shown: a plain message and the details."""
from __future__ import annotations

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
