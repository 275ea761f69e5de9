"""The search box's query language, parsed once and compiled per backend.

Web-search style, like PostgreSQL's websearch_to_tsquery:
  words             all must match (AND)
  "a phrase"        the words in this order
  word or other     either (OR binds the neighbouring items)
  -word, -"phrase"  must not match
The last plain word also matches as a prefix ("hobb" finds "hobbit"), since people
search as they type; after other words even one or two letters do ("left ha").
Text is normalised like the index (case, accents, punctuation).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from books.text import STOPWORDS, normalize, words

MAX_QUERY_LENGTH = 200
MAX_ATOMS = 12
MAX_WORD_LENGTH = 40
MIN_PREFIX_LENGTH = 3  # a query of one word
MIN_PREFIX_LENGTH_AFTER_WORDS = 1  # the last of several words ("left h")

_TOKEN_RE = re.compile(r'(-?)"([^"]*)"?|(\S+)')


@dataclass(frozen=True)
class Atom:
    """One word, or a phrase of several, possibly matched as a prefix (last word only)."""

    words: tuple[str, ...]
    prefix: bool = False

    @property
    def is_phrase(self) -> bool:
        return len(self.words) > 1


@dataclass
class ParsedQuery:
    raw: str
    # Every group must match; a group matches when any of its atoms does.
    must: list[list[Atom]] = field(default_factory=list)
    must_not: list[Atom] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not self.must

    @property
    def positive_atoms(self) -> list[Atom]:
        return [atom for group in self.must for atom in group]

    @property
    def positive_words(self) -> list[str]:
        return [w for atom in self.positive_atoms for w in atom.words]

    @property
    def key(self) -> str:
        """The query as a normalised title, for "exact title first"."""
        return normalize(self.raw)

    def replace_words(self, mapping: dict[str, str]) -> ParsedQuery:
        def fix(atom: Atom) -> Atom:
            return Atom(tuple(mapping.get(w, w) for w in atom.words), atom.prefix)

        return ParsedQuery(
            raw=" ".join(mapping.get(w, w) for w in words(self.raw)),
            must=[[fix(a) for a in group] for group in self.must],
            must_not=list(self.must_not),
        )


def parse(raw: str) -> ParsedQuery:
    raw = (raw or "")[:MAX_QUERY_LENGTH]
    parsed = ParsedQuery(raw=raw)
    items: list[tuple[str, Atom | None, bool]] = []  # (kind, atom, negated); kind "or"/"atom"
    for match in _TOKEN_RE.finditer(raw):
        neg_quote, quoted, bare = match.groups()
        if quoted is not None:
            ws = tuple(w[:MAX_WORD_LENGTH] for w in words(quoted))
            if ws:
                items.append(("atom", Atom(ws), bool(neg_quote)))
            continue
        if bare.lower() == "or":
            items.append(("or", None, False))
            continue
        negated = bare.startswith("-") and len(bare) > 1
        ws = tuple(w[:MAX_WORD_LENGTH] for w in words(bare[1:] if negated else bare))
        if not ws:
            continue
        items.append(("atom", Atom(ws), negated))
        if not negated and len(ws) == 1:
            items[-1] = ("bare", Atom(ws), False)

    # Drop stop words from plain (unquoted) single words when other words remain.
    meaningful = [
        it
        for it in items
        if it[0] != "or" and not (it[0] == "bare" and it[1].words[0] in STOPWORDS)
    ]
    if meaningful and any(not negated for _, _, negated in meaningful):
        items = [it for it in items if not (it[0] == "bare" and it[1].words[0] in STOPWORDS)]

    # The last plain word is a prefix.
    for index in range(len(items) - 1, -1, -1):
        kind, atom, negated = items[index]
        if kind == "or":
            continue
        before = any(it[0] != "or" and not it[2] for it in items[:index])
        shortest = MIN_PREFIX_LENGTH_AFTER_WORDS if before else MIN_PREFIX_LENGTH
        if kind == "bare" and len(atom.words[0]) >= shortest:
            items[index] = (kind, Atom(atom.words, prefix=True), negated)
        break

    pending_or = False
    count = 0
    for kind, atom, negated in items:
        if kind == "or":
            pending_or = bool(parsed.must)
            continue
        if count >= MAX_ATOMS:
            break
        count += 1
        if negated:
            parsed.must_not.append(atom)
            pending_or = False
        elif pending_or:
            parsed.must[-1].append(atom)
            pending_or = False
        else:
            parsed.must.append([atom])
    return parsed


# -- compilers --------------------------------------------------------------------------


def to_pg_tsquery(parsed: ParsedQuery) -> str:
    """A to_tsquery() string. Words are \\w+ only, so no operator can sneak in."""

    def atom_sql(atom: Atom) -> str:
        if atom.is_phrase:
            return "(" + " <-> ".join(atom.words) + ")"
        return atom.words[0] + (":*" if atom.prefix else "")

    groups = []
    for group in parsed.must:
        parts = [atom_sql(a) for a in group]
        groups.append(parts[0] if len(parts) == 1 else "(" + " | ".join(parts) + ")")
    groups += ["!" + atom_sql(a) for a in parsed.must_not]
    return " & ".join(groups)


def to_fts5(parsed: ParsedQuery) -> str:
    """An FTS5 MATCH expression. Every word is a quoted string, so the syntax is safe."""

    def atom_sql(atom: Atom) -> str:
        return '"' + " ".join(atom.words) + '"' + ("*" if atom.prefix else "")

    groups = []
    for group in parsed.must:
        parts = [atom_sql(a) for a in group]
        groups.append(parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")")
    expression = "(" + " AND ".join(groups) + ")"
    for atom in parsed.must_not:
        expression = f"({expression} NOT {atom_sql(atom)})"
    return expression
