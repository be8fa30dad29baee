"""Tools for tests and the benchmark, shipped with the package so both can import them.

``scripted_server``: a scripted OpenAI-compatible HTTP server on loopback, with provider modes
that reproduce each hosted or self-hosted API's documented quirks. ``server_process``: the same
server in a child process, the benchmark's stand-in for a remote endpoint. Nothing in a run
imports this package.
"""
