"""Reading the YAML and JSON files people write (setlists, festival files), bounded.

A setlist or festival file is a few kilobytes. What is refused, with one line saying
why, before anything uses the document:

- files over the caller's size limit (checked before reading);
- nesting deeper than MAX_DEPTH levels (5,000 levels made PyYAML's recursive composer
  raise RecursionError);
- documents that would expand, counting every use of an alias, to more than
  MAX_NODES nodes: a 400-byte "billion laughs" alias bomb stays small as a graph but
  becomes billions of values for any code that walks it (``datapalooza report`` hung
  with gigabytes); recursive aliases too.

YAML is a superset of JSON, so one loader reads both. Only YAML's safe types are built.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, SequenceNode

MAX_DEPTH = 32
"""Nesting levels: a festival file needs 4, a setlist 5."""
MAX_NODES = 20_000
"""Values in the expanded document: 200 tracks of 3 fields each need about 1,000."""


class DocumentError(ValueError):
    """A file that cannot be read as a bounded YAML or JSON document; the message names
    the file and the limit."""


def read_document(path: Path, *, max_bytes: int, what: str) -> Any:
    """The YAML or JSON document in ``path`` (``what`` names it in errors)."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise DocumentError(f"{path} is {size} bytes; a {what} is at most {max_bytes}")
        with path.open("rb") as handle:
            raw = handle.read(max_bytes + 1)  # the file may grow after stat
    except OSError as exc:
        raise DocumentError(f"cannot read {what} {path}: {exc.strerror or exc}") from exc
    if len(raw) > max_bytes:
        raise DocumentError(f"{path} grew over {max_bytes} bytes; a {what} is at most that")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise DocumentError(f"{what} {path} is not UTF-8 text") from None
    try:
        return load_document(text)
    except DocumentError as exc:
        raise DocumentError(f"{what} {path}: {exc}") from None


def load_document(text: str) -> Any:
    """Parse YAML or JSON text within MAX_DEPTH and MAX_NODES."""
    loader = _BoundedLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_expansion(node)
        return loader.construct_document(node)
    except yaml.YAMLError as exc:
        raise DocumentError(f"not valid YAML or JSON: {exc}") from None
    finally:
        loader.dispose()


class _BoundedLoader(yaml.SafeLoader):
    """SafeLoader whose composer refuses nesting deeper than MAX_DEPTH."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                raise DocumentError(f"nested deeper than {MAX_DEPTH} levels (line {mark.line + 1})")
            node: Node | None = super().compose_node(parent, index)
            return node
        finally:
            self._depth -= 1


def _check_expansion(root: Node) -> None:
    """Count the document's values as code walking it would meet them (each alias at
    every use), without building it; refuse past MAX_NODES or a recursive alias."""
    sizes: dict[int, int] = {}
    walking: set[int] = set()

    def size(node: Node) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in walking:
            raise DocumentError("an alias refers to a value that contains it")
        walking.add(key)
        total = 1
        if isinstance(node, SequenceNode):
            children: list[Node] = list(node.value)
        elif isinstance(node, MappingNode):
            children = [part for pair in node.value for part in pair]
        else:
            children = []
        for child in children:
            total += size(child)
            if total > MAX_NODES:
                raise DocumentError(
                    f"expands to more than {MAX_NODES} values (aliases count at every "
                    "use); write the values out"
                )
        walking.discard(key)
        sizes[key] = total
        return total

    size(root)
