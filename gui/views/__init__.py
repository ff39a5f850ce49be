"""Views: dendrogram, image viewer, thumbnail loading, the suspects table."""
