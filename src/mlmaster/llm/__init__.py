"""The LLM layer: endpoints, coders and reviewers over any OpenAI-compatible API.

Start from :mod:`mlmaster.llm.pool` (``build_coder``, ``build_reviewer``, ``build_accountant``);
the boundary types are in :mod:`mlmaster.llm.requests`.

Modules, in the order a call goes through them: ``prompting`` (templates in ``prompts/``,
``preview`` for the data preview) -> ``client`` (``Endpoint``: limiter, retries, accounting)
-> ``reasoning`` and ``extract`` (reasoning, plan, code, metric line) -> ``coder`` / ``review``.
``replay`` records and serves exchanges back; ``scripted_server`` is the loopback test server.
"""
