"""A small DOM over the standard library's ``html.parser`` for the report tests (no extra dependency)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Node:
    def __init__(self, tag: str, attrs: dict, parent: Node | None):
        self.tag, self.attrs, self.parent = tag, attrs, parent
        self.children: list[Node | str] = []

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def clean_text(self) -> str:
        return re.sub(r"\s+", " ", self.text()).strip()

    def classes(self) -> set[str]:
        return set((self.attrs.get("class") or "").split())

    def iter(self):
        for child in self.children:
            if isinstance(child, Node):
                yield child
                yield from child.iter()

    def find_all(self, tag: str | None = None, cls: str | None = None, **attrs) -> list[Node]:
        found = []
        for node in self.iter():
            if tag and node.tag != tag:
                continue
            if cls and cls not in node.classes():
                continue
            if any(node.attrs.get(k.replace("_", "-")) != v for k, v in attrs.items()):
                continue
            found.append(node)
        return found

    def find(self, tag: str | None = None, cls: str | None = None, **attrs) -> Node:
        found = self.find_all(tag, cls, **attrs)
        assert found, f"no <{tag} class={cls} {attrs}>"
        return found[0]


class TreeBuilder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {}, None)
        self.current = self.root

    def handle_starttag(self, tag, attrs):
        node = Node(tag, {k: (v if v is not None else "") for k, v in attrs}, self.current)
        self.current.children.append(node)
        if tag not in VOID:
            self.current = node

    def handle_endtag(self, tag):
        node = self.current
        while node is not self.root and node.tag != tag:
            node = node.parent
        if node is not self.root:
            self.current = node.parent

    def handle_data(self, data):
        self.current.children.append(data)


_PARSED: dict[tuple, Node] = {}


def parse(path: Path) -> Node:
    """The parsed page (cached while the file is unchanged)."""
    path = path.resolve()
    stat = path.stat()
    key = (path, stat.st_mtime_ns, stat.st_size)
    if key not in _PARSED:
        builder = TreeBuilder()
        builder.feed(path.read_text(encoding="utf-8"))
        builder.close()
        _PARSED[key] = builder.root
    return _PARSED[key]


def parse_text(text: str) -> Node:
    """A parsed HTML text."""
    builder = TreeBuilder()
    builder.feed(text)
    builder.close()
    return builder.root


def number(text: str) -> int:
    assert re.fullmatch(r"\d{1,3}(\.\d{3})*", text), f"{text!r} is not a Vietnamese-formatted count"
    return int(text.replace(".", ""))


