"""The LLM layer: endpoints, coders and reviewers over OpenAI-compatible APIs and Azure.

Start from :mod:`mlmaster.llm.pool` (``build_coder``, ``build_reviewer``, ``build_accountant``);
the boundary types are in :mod:`mlmaster.llm.requests`.

Modules, in the order a call goes through them: ``prompting`` (templates in ``prompts/``,
``preview`` for the data preview, ``fitting`` to a context length) -> ``client`` (``Endpoint``:
parameters, limiter, retries, wall-clock cap, accounting) -> a ``transport`` (one per wire
client, registered in ``transports``) -> ``faults`` (what an error means for the run) ->
``reasoning`` and ``extract`` (reasoning, plan, code, metric line) -> ``coder`` / ``review``.
``presets`` holds each provider's defaults; ``probe`` checks each role's endpoint before a run;
``replay`` records and serves exchanges back.
"""
