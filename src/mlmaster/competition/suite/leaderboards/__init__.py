"""Frozen leaderboards of the bundled suite (package data; see ``suite.references``)."""
