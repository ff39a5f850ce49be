"""Qt review window over the headless ``pipeline`` package (PySide6 + pyqtgraph)."""
from gui._qt_compat import patch_signal_emit

patch_signal_emit()
