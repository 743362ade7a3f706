"""The ``woa`` command line."""
