"""The OpenAI client: chat completions, Responses and embeddings, sync and async.

The ``.stream(...)`` helpers and ``with_raw_response`` call ``create`` underneath, so
patching ``create`` measures them too (a raw response is read through its cached
``parse()``; a raw stream is the caller's to read and is counted unmetered).
"""

from __future__ import annotations

import importlib
from functools import partial
from typing import Any

from ._core import Instrumentation, Operation, patch
from ._wrap import stainless

#: (module, class, path from a client, operation, ask OpenAI-style streams for usage); each sync and Async.
_METHODS = (
    ("openai.resources.chat.completions.completions", "Completions", ("chat", "completions"), "chat", True),
    ("openai.resources.responses.responses", "Responses", ("responses",), "chat", False),
    ("openai.resources.embeddings", "Embeddings", ("embeddings",), "embeddings", False),
)


def instrument(inst: Instrumentation, target: Any = None) -> list[str]:
    """Patch the installed client's classes, or only one client's resources; the names patched."""
    done: list[str] = []
    for module_name, class_name, path, operation, ask in _METHODS:
        module = importlib.import_module(module_name)
        for prefix in ("", "Async"):
            cls = getattr(module, prefix + class_name, None)
            if cls is None:
                continue
            op = Operation(operation, "openai", is_async=bool(prefix), ask_stream_usage=ask, ask_in_extra_body=ask)
            owner = cls if target is None else resource_of(target, path, cls)
            if owner is not None and patch(inst, owner, "create", partial(stainless, op=op),
                                           instance=target is not None):
                done.append(f"{prefix}{class_name}.create")
    return done


def resource_of(client: Any, path: tuple[str, ...], cls: type) -> Any:
    """``client.chat.completions`` (by ``path``) when it is a ``cls``; None otherwise."""
    node = client
    for name in path:
        node = getattr(node, name, None)
    return node if isinstance(node, cls) else None
