"""Benchmarks that print comparable figures: `make bench`, or `python -m bench.<name>`."""
