"""Qt review window over the headless ``pipeline`` package (PySide6 + pyqtgraph).

Importing ``gui`` (or ``gui.app``) loads no Qt: the pipeline's child process is
started with ``spawn`` and re-imports the window's entry module, and must stay
headless. :func:`gui.app.make_application` applies the binding work-arounds.
"""
