"""A regex alternation (`A|B|C|...`) searched faster, with exactly the matches `re` gives it.

`re` tries the alternatives of an alternation one after another at every position of the text,
so a signal with 80 phrases pays up to 80 comparisons per character. Two rewrites keep every
match, in the same order and with the same span:

1. A prefix tree: alternatives that share their first characters are merged
   (`could a|could an|can` → `c(?:ould(?: a| an)|an)`), in their order, so a shared prefix is
   compared once. Only alternatives with different first characters change places, and those can
   never match at the same position. A leading class of a few plain characters is spelled out
   (`[$€]x` → `\\$x|€x`), and neighbours that start with the same class share it.
2. One search per first character: when every alternative starts with a literal character or a
   character class, the alternatives are split into parts that can never match at the same
   position (one part per ASCII first character, one for the other literal first characters, one
   for the classes and the literals a class matches). `re` finds each part's next match with a
   fast scan for its first character; the earliest of them is the alternation's next match.

Written here because no library does this for `re`: trie builders merge plain words, not
alternatives with regex tails, and Aho-Corasick finds literal strings, not leftmost-first regex
matches. Patterns that are not alternations are compiled as they are.
"""

import re
from typing import Iterator

_META = frozenset(".^$*+?{}[]|()")
_QUANTIFIERS = frozenset("*?{+")
_CLASS_ESCAPES = frozenset("dDsSwW")
# A class of up to 8 characters that are literal in it (no range, escape, negation), unquantified.
_PLAIN_CLASS = re.compile(r"\[([^\]\\^\-\[]{1,8})\](?![*?{+])")
_Literal = tuple[str, str]  # a character and how the pattern writes it


class Alternation:
    """`finditer` with the matches of `re.compile(source, flags).finditer`, found faster."""

    def __init__(self, source: str, flags: int = 0):
        inline_flags = any(char == "(" and source[i + 1 : i + 2] == "?" and source[i + 2 : i + 3] in "aiLmsux-"
                           for i, char in _structure(source))
        if flags & ~re.MULTILINE or inline_flags:
            raise ValueError("only re.MULTILINE is supported: other flags change what a literal character matches")
        if re.compile(source, flags).groups:
            raise ValueError(f"capturing groups would be renumbered: use (?:...) in {source[:60]!r}")
        self.source = source
        items = [_head(alternative) for alternative in _alternatives(source)]
        self._parts = tuple(re.compile(_tree(part), flags) for part in _parts(items, flags))

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        if len(self._parts) == 1:
            return self._parts[0].finditer(text)
        return self._earliest(text)

    def _earliest(self, text: str) -> Iterator[re.Match[str]]:
        """The parts' matches merged by position: no two parts match at the same one, none matches empty."""
        heads = {part: match for part in self._parts if (match := part.search(text))}
        while heads:
            match = min(heads.values(), key=re.Match.start)
            yield match
            end = match.end()
            for part, head in list(heads.items()):
                if head.start() < end:  # overlapped by the match: the part's next match is after it
                    if (head := part.search(text, end)) is None:
                        del heads[part]
                    else:
                        heads[part] = head


def _alternatives(source: str) -> list[str]:
    """The top-level alternatives of a pattern (of its one enclosing `(?:...)` group, if it has one)."""
    alternatives = _split(source)
    if len(alternatives) == 1 and source.startswith("(?:") and _closing(source) == len(source) - 1:
        alternatives = _split(source[3:-1])
    return [spelled for alternative in alternatives for spelled in _spelled_out(alternative)]


def _spelled_out(alternative: str) -> list[str]:
    """`[$£€]\\s?\\d` as `\\$\\s?\\d|£\\s?\\d|€\\s?\\d`: a leading class of a few plain characters is a
    choice of one of them, and each then starts with a literal (at most one can match at a place)."""
    plain = _PLAIN_CLASS.match(alternative)
    if plain is None:
        return [alternative]
    return [re.escape(char) + alternative[plain.end() :] for char in dict.fromkeys(plain.group(1))]


def _split(source: str) -> list[str]:
    """The pattern cut at each `|` outside groups and character classes."""
    cuts, depth = [-1], 0
    for i, char in _structure(source):
        if char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        elif char == "|" and depth == 0:
            cuts.append(i)
    cuts.append(len(source))
    return [source[a + 1 : b] for a, b in zip(cuts, cuts[1:])]


def _closing(source: str) -> int:
    """Where the group opened by the pattern's first character closes."""
    depth = 0
    for i, char in _structure(source):
        depth += 1 if char in "([" else -1 if char in ")]" else 0
        if depth == 0:
            return i
    return -1


def _structure(source: str) -> Iterator[tuple[int, str]]:
    """The characters that give the pattern its structure: parentheses and `|` outside character
    classes, and each class's own `[` and `]` (so a class counts as one level); escapes skipped."""
    i, in_class = 0, False
    while i < len(source):
        char = source[i]
        if char == "\\":
            i += 2
            continue
        if in_class:
            if char == "]":
                in_class = False
                yield i, char
        elif char == "[":
            in_class = True
            yield i, char
            i += 1 + (source[i + 1 : i + 2] == "^")  # a "]" right after "[" or "[^" is a literal
            if source[i : i + 1] == "]":
                i += 1
            continue
        elif char in "()|":
            yield i, char
        i += 1


def _head(alternative: str) -> tuple[list[_Literal], str]:
    """The alternative's leading literal characters and the rest of its pattern."""
    literals, i = [], 0
    while i < len(alternative):
        char = alternative[i]
        if char == "\\" and i + 1 < len(alternative) and not alternative[i + 1].isalnum():
            literals.append((alternative[i + 1], alternative[i : i + 2]))
            i += 2
        elif char in _META or char == "\\":
            break
        else:
            literals.append((char, char))
            i += 1
    if literals and alternative[i : i + 1] in _QUANTIFIERS:  # `tells?`: the quantified "s" is not required
        i -= len(literals.pop()[1])
    return literals, alternative[i:]


def _leading_class(rest: str) -> tuple[str, str] | None:
    """The character class a pattern starts with (`\\d`, `[...]`, `.`) and what follows it."""
    if rest[:1] == "[":
        end = next(i for i, char in _structure(rest) if char == "]") + 1
    elif rest[:1] == "\\" and rest[1:2] in _CLASS_ESCAPES:
        end = 2
    elif rest[:1] == ".":
        end = 1
    else:
        return None
    return rest[:end], rest[end:]


def _first_class(rest: str) -> str | None:
    """The character class an alternative starts with, if it must match one character there."""
    lead = _leading_class(rest)
    return None if lead is None or lead[1][:1] in ("?", "*", "{") else lead[0]


def _single_class(rest: str) -> str | None:
    """The class an alternative starts with, if it matches exactly one character (no quantifier)."""
    lead = _leading_class(rest)
    return None if lead is None or lead[1][:1] in _QUANTIFIERS else lead[0]


def _parts(items: list[tuple[list[_Literal], str]], flags: int) -> list[list[tuple[list[_Literal], str]]]:
    """The alternatives split into groups no two of which can match at the same position, each in order."""
    classes = [_first_class(rest) for literals, rest in items if not literals]
    if None in classes:  # an alternative that may start anywhere (an anchor, a group): one part
        return [items]
    clashes = lambda char: any(re.fullmatch(cls, char, flags) for cls in classes)  # noqa: E731
    groups: dict[str, list[tuple[list[_Literal], str]]] = {}
    for literals, rest in items:
        first = literals[0][0] if literals else ""
        key = "class" if not literals or clashes(first) else first if first.isascii() else "other"
        groups.setdefault(key, []).append((literals, rest))
    return list(groups.values())


def _tree(items: list[tuple[list[_Literal], str]]) -> str:
    """One alternation of the items, in their order, with shared leading literals written once.

    Items with leading literals are grouped by their first one; an item with none is tried where
    it stood, so nothing moves across it, and only the items right after it that start with the
    same one-character class share that class (`\\dx|\\dy` → `\\d(?:x|y)`, which `re` then finds by
    a scan for the class).
    """
    out, i = [], 0
    while i < len(items):
        if not items[i][0]:
            cls, j = _single_class(items[i][1]), i + 1
            while cls is not None and j < len(items) and not items[j][0] and _single_class(items[j][1]) == cls:
                j += 1
            if j - i > 1:
                out.append(f"{cls}(?:{_tree([_head(rest[len(cls) :]) for _, rest in items[i:j]])})")
            else:
                out.append(items[i][1])
            i = j
            continue
        groups: dict[str, list[tuple[list[_Literal], str]]] = {}  # by character, however it is written
        written: dict[str, str] = {}
        while i < len(items) and items[i][0]:
            literals, rest = items[i]
            groups.setdefault(literals[0][0], []).append((literals[1:], rest))
            written.setdefault(*literals[0])
            i += 1
        for char, rests in groups.items():
            inner = _tree(rests)
            out.append(written[char] + (f"(?:{inner})" if len(rests) > 1 else inner))
    return "|".join(out)
