"""Deterministic YAML for rule and rule-test files: sorted keys, indent 2, a generated header."""

from __future__ import annotations

from typing import Any

import yaml

from ..header import header

HEADER = header("yaml")


class _Dumper(yaml.SafeDumper):
    pass


def _str(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _str)


def dump(document: Any) -> str:
    """YAML text with the header; the same input always gives the same bytes."""
    body = yaml.dump(document, Dumper=_Dumper, sort_keys=True, indent=2, width=10_000,
                     default_flow_style=False, allow_unicode=True)
    return HEADER + body
