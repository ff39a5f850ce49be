"""Dialogs: settings, split/move, class picker, help, file choices."""
