"""Small standalone widgets: progress panel, error banner, center view, welcome page."""
