"""The on-disk project store and the run-and-store entry point the window's child process starts."""
