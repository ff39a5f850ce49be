"""Qt item models over the review session (clusters, thumbnails, suspects)."""
