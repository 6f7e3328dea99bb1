"""``aivitals probe``: a versioned jailbreak and prompt-injection suite, run against the app's own endpoint.

``suite`` holds the shipped probes and renders them with fresh canaries,
``detect`` scores an answer without a model, ``endpoint`` asks an
OpenAI-compatible API, ``runner`` runs the suite, ``compare`` tests a result
against the previous release's, ``cli`` is the command.
"""
