"""Shared plumbing every stage uses: progress and cancel, image items, per-user paths, atomic writes."""
