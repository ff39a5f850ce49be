"""Pages of the review area: clusters and suspects."""
