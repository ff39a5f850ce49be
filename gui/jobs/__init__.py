"""The job runner and the jobs it runs on the model thread."""
