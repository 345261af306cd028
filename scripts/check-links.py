#!/usr/bin/env python3
"""Check the relative links of every tracked Markdown file, and the README's size.

For each `*.md` file git tracks (`git ls-files '*.md'`), every link `[text](path)`,
`[text](path#anchor)`, `[text](#anchor)`, image `![alt](path)` and reference definition
`[label]: path` outside code blocks and inline code is checked: the path exists (relative to
the file's folder; a leading `/` is the repository root) and, when the target is a Markdown
file, the anchor is one of its headings' GitHub-style slugs (lowercased, punctuation but `-`
and `_` dropped, spaces turned into `-`, `-1`, `-2`, ... on repeats) or an explicit
`<a name="...">` / `id="..."`. Links with a scheme (`http://`, `https://`, `mailto:`, ...)
are skipped. README.md must be at most 10,240 bytes.

Prints each broken link as `file:line: link` and exits 1 if there is any. Standard library only.
"""

import os
import re
import subprocess
import sys
from urllib.parse import unquote

README_MAX_BYTES = 10 * 1024

FENCE = re.compile(r"^\s*(`{3,}|~{3,})")
# The text may run over line breaks, not over a blank line.
INLINE_LINK = re.compile(r"!?\[(?:[^\]\n]|\n(?![ \t]*\n))*\]\(\s*(<[^>]*>|[^)\s]+)(?:\s+(?:\"[^\"]*\"|'[^']*'|\([^)]*\)))?\s*\)")
REFERENCE_DEF = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)")
ATX_HEADING = re.compile(r"^\s{0,3}(#{1,6})(?:\s+(.*?))?\s*$")
SETEXT_UNDERLINE = re.compile(r"^\s{0,3}(=+|-+)\s*$")
HTML_ANCHOR = re.compile(r"<a\s[^>]*?\b(?:name|id)\s*=\s*[\"']([^\"']+)[\"']", re.IGNORECASE)
HTML_ID = re.compile(r"<[a-zA-Z][^>]*?\bid\s*=\s*[\"']([^\"']+)[\"']")
SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def blank_inline_code(text):
    """The text with every inline code span blanked (spaces; newlines and so line numbers kept).

    A span may run over a line break but not over a blank line, as in Markdown."""
    out, i = [], 0
    while i < len(text):
        if text[i] != "`":
            out.append(text[i])
            i += 1
            continue
        j = i
        while j < len(text) and text[j] == "`":
            j += 1
        ticks = text[i:j]
        end = text.find(ticks, j)
        # The closing run must be exactly as long as the opening one.
        while end != -1 and end + len(ticks) < len(text) and text[end + len(ticks)] == "`":
            k = end
            while k < len(text) and text[k] == "`":
                k += 1
            end = text.find(ticks, k)
        if end == -1 or re.search(r"\n[ \t]*\n", text[j:end]):
            out.append(ticks)
            i = j
            continue
        end += len(ticks)
        out.append(re.sub(r"[^\n]", " ", text[i:end]))
        i = end
    return "".join(out)


def prose_lines(text):
    """(line number, line) for each line outside fenced code blocks."""
    fence = None
    for number, line in enumerate(text.split("\n"), start=1):
        match = FENCE.match(line)
        if fence is None:
            if match:
                fence = match.group(1)
                continue
            yield number, line
        elif match and match.group(1)[0] == fence[0] and len(match.group(1)) >= len(fence) \
                and line.strip() == match.group(1):
            fence = None


def slug(heading):
    """GitHub's anchor for a heading's text."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # links and images: their text
    text = re.sub(r"<[^>]+>", "", text)  # HTML tags
    text = text.lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(text):
    """Every anchor a Markdown file defines."""
    found, seen = set(), {}
    previous = None

    def add(heading):
        base = slug(heading.strip())
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")

    for _, line in prose_lines(text):
        for match in HTML_ANCHOR.finditer(line):
            found.add(match.group(1))
        for match in HTML_ID.finditer(line):
            found.add(match.group(1))
        atx = ATX_HEADING.match(line)
        if atx:
            add(re.sub(r"\s+#+\s*$", "", atx.group(2) or ""))
            previous = None
            continue
        if previous and previous.strip() and SETEXT_UNDERLINE.match(line) \
                and not previous.lstrip().startswith(("|", ">", "-", "*", "+")):
            add(previous)
            previous = None
            continue
        previous = line
    return found


def main():
    root = subprocess.run(
        ["git", "rev-parse", "--show-toplevel"], check=True, capture_output=True, text=True
    ).stdout.strip()
    os.chdir(root)
    files = subprocess.run(
        ["git", "ls-files", "-z", "*.md"], check=True, capture_output=True, text=True
    ).stdout.split("\0")
    files = [f for f in files if f]

    cache = {}

    def anchors_of(path):
        if path not in cache:
            with open(path, encoding="utf-8") as f:
                cache[path] = anchors(f.read())
        return cache[path]

    broken, checked = [], 0
    for name in files:
        if not os.path.isfile(name):
            continue  # deleted in the work tree, not yet in the index
        with open(name, encoding="utf-8") as f:
            text = f.read()
        lines = text.split("\n")
        prose = dict(prose_lines(text))
        # Code blocks become empty lines, inline code spaces: what is left is where links are.
        visible = blank_inline_code(
            "\n".join(prose.get(n, "") for n in range(1, len(lines) + 1))
        )
        found = []
        for match in INLINE_LINK.finditer(visible):
            found.append((visible.count("\n", 0, match.start(1)) + 1, match.group(1)))
        for number, line in enumerate(visible.split("\n"), start=1):
            definition = REFERENCE_DEF.match(line)
            if definition:
                found.append((number, definition.group(1)))
        for number, target in sorted(found):
            link = target[1:-1] if target.startswith("<") and target.endswith(">") else target
            if not link or SCHEME.match(link):
                continue
            checked += 1
            path, _, anchor = link.partition("#")
            path = unquote(path.split("?", 1)[0])
            if path:
                base = root if path.startswith("/") else os.path.dirname(name)
                resolved = os.path.normpath(os.path.join(base, path.lstrip("/")))
            else:
                resolved = name
            if not os.path.exists(resolved):
                broken.append(f"{name}:{number}: {link}")
                continue
            if anchor and resolved.endswith(".md") and os.path.isfile(resolved):
                if unquote(anchor) not in anchors_of(resolved):
                    broken.append(f"{name}:{number}: {link}")

    for line in broken:
        print(line)
    size = os.path.getsize("README.md") if os.path.isfile("README.md") else 0
    too_big = size > README_MAX_BYTES
    if too_big:
        print(f"README.md: {size} bytes, more than {README_MAX_BYTES}")
    if broken or too_big:
        print(f"check-links: {len(broken)} broken link(s) of {checked} in {len(files)} file(s)"
              + ("; README.md too large" if too_big else ""), file=sys.stderr)
        return 1
    print(f"check-links: {checked} relative link(s) in {len(files)} file(s) all resolve; "
          f"README.md is {size} bytes (at most {README_MAX_BYTES})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
