"""The command line: ``cluster-review run | eval | suspects | presets | demo | gui``."""
