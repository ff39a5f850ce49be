"""Qt review window over the headless ``pipeline`` package (PySide6 + pyqtgraph)."""
