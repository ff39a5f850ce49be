"""Controllers: review state and edits, opening and running projects (no widgets)."""
