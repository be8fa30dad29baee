"""The ``mlmaster`` command line."""
