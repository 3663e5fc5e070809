"""A prefilter for many regular expressions searched in one short text.

The act and cue lexicons hold a few hundred patterns; searching each over every turn costs
most of the signal tracker's time, although a turn matches only a handful. :class:`RegexSet`
derives from each pattern's parse tree a set of strings of which every match must contain one
(the "required literals" of trigram / RE2-style regex prefilters; Cox 2012, "Regular
Expression Matching with a Trigram Index"). Where those strings pin down whole words (runs of
``[a-z0-9]`` delimited inside the pattern, e.g. by ``\\b``, a space or ``^``), the test is a
dictionary lookup of the text's words; otherwise a substring test; a pattern with nothing to
hold on to is always searched. The derivation is conservative, so the filter never changes a
result: it only skips searches that cannot succeed (tested on every lexicon pattern).

Written by hand because the standard ``re`` module has no multi-pattern matcher, and the
lexicons rely on its exact semantics (look-behinds, leftmost-first alternation) that a pattern
set engine such as RE2 or Hyperscan would change.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache
from itertools import product
from typing import Any

try:  # the parser behind re.compile; named sre_parse before Python 3.11
    from re import _parser as _sre  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - older Pythons
    import sre_parse as _sre  # type: ignore[no-redef]

__all__ = ["Atom", "RegexSet", "Requirement", "fast_form", "requirement", "requirements",
           "words"]

_MAX_SET = 64  # largest string set kept while expanding alternations and optional parts
_MAX_REPEAT = 3  # largest bounded repeat expanded exactly
_MAX_CLAUSES = 8  # requirements checked per pattern (the first through an index)
_MAX_PHRASES = 4  # largest set of alternative phrases kept as a substring requirement
# Zero-width markers kept inside expanded strings: a word boundary, start, end. None of them is
# in [a-z0-9], so each delimits a word; they are removed before substring tests.
_B, _START, _END = "\x00", "\x01", "\x02"
_MARKS = {_sre.AT_BOUNDARY: _B, _sre.AT_BEGINNING: _START, _sre.AT_BEGINNING_STRING: _START,
          _sre.AT_END: _END, _sre.AT_END_STRING: _END}
_STRIP = str.maketrans("", "", _B + _START + _END)
_RUN = re.compile(r"[a-z0-9]+")

Strings = frozenset[str]


@lru_cache(maxsize=8)
def words(text: str) -> frozenset[str]:
    """The maximal ``[a-z0-9]`` runs of ``text`` and each pair of consecutive runs joined by a
    space: the tokens :class:`RegexSet` looks up. Cached for the last few texts: one turn's
    text is looked up by several sets."""
    runs = _RUN.findall(text)
    return frozenset(runs).union([f"{a} {b}" for a, b in zip(runs, runs[1:], strict=False)])


#: One thing a match needs in the text: ``("w", words)`` all these whole words, ``("s", text)``
#: a substring, ``("c", "digit")`` a decimal digit. A requirement is a set of atoms, any of which.
Atom = tuple[str, Any]
Requirement = frozenset[Atom]
_CLASSES = {"digit": re.compile(r"\d")}


def _cat(a: Strings, b: Strings) -> Strings | None:
    if len(a) * len(b) > _MAX_SET:
        return None
    return frozenset(x + y for x, y in product(a, b))


def _exact(node: tuple) -> Strings | None:
    """Every string ``node`` can match (with zero-width markers), if few; else None."""
    op, av = node
    if op is _sre.LITERAL:
        return frozenset({chr(av)})
    if op is _sre.AT:
        return frozenset({_MARKS.get(av, "")})
    if op is _sre.IN:
        if all(o is _sre.LITERAL for o, _ in av) and len(av) <= 8:
            return frozenset(chr(v) for _, v in av)
        return None
    if op is _sre.SUBPATTERN:
        _, add_flags, del_flags, body = av
        return None if add_flags or del_flags else _seq_exact(body)
    if op is _sre.BRANCH:
        out: set[str] = set()
        for branch in av[1]:
            sub = _seq_exact(branch)
            if sub is None:
                return None
            out |= sub
        return frozenset(out) if len(out) <= _MAX_SET else None
    if op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT):
        lo, hi, body = av
        sub = _seq_exact(body)
        if sub is None or hi > _MAX_REPEAT:
            return None
        out = set()
        for k in range(lo, hi + 1):
            acc = _concat([sub] * k)
            if acc is None:
                return None
            out |= acc
        return frozenset(out) if len(out) <= _MAX_SET else None
    return None


def _concat(parts: Iterable[Strings | None]) -> Strings | None:
    """Every concatenation of one string from each part, in order; None if a part is None or
    the set grows past ``_MAX_SET``."""
    acc: Strings | None = frozenset({""})
    for sub in parts:
        if sub is None or acc is None:
            return None
        acc = _cat(acc, sub)
    return acc


def _seq_exact(items: Sequence[tuple]) -> Strings | None:
    return _concat(_exact(node) for node in items)


def _whole_words(s: str) -> frozenset[str]:
    """The ``[a-z0-9]`` runs of ``s`` delimited on both sides inside ``s`` (whole words of any
    text that contains ``s``), and each pair of consecutive ones as ``"w1 w2"`` (then
    consecutive words of that text too): the tokens :func:`words` gives."""
    found = [(m.group(), m.start() > 0 and m.end() < len(s)) for m in _RUN.finditer(s)]
    runs = {w for w, whole in found if whole}
    pairs = {f"{a} {b}" for (a, wa), (b, wb) in zip(found, found[1:], strict=False) if wa and wb}
    return frozenset(runs | pairs)


def _as_requirement(strings: Strings) -> Requirement | None:
    """The requirement one run of expanded strings gives, or None if it gives none."""
    if not strings:
        return None
    atoms: set[Atom] = set()
    for s in strings:
        found = _whole_words(s)
        plain = s.translate(_STRIP)
        if found:
            atoms.add(("w", found))
        elif plain:
            atoms.add(("s", plain))
        else:
            return None
    # a substring that contains another required substring adds nothing
    subs = [a[1] for a in atoms if a[0] == "s"]
    return frozenset(a for a in atoms
                     if a[0] != "s" or not any(t != a[1] and t in a[1] for t in subs))


def _required(node: tuple) -> Requirement | None:
    """Requirement of a node that is not exactly expandable; None if unknown."""
    op, av = node
    if op is _sre.SUBPATTERN:
        _, add_flags, del_flags, body = av
        return None if add_flags or del_flags else _seq_required(body)
    if op is getattr(_sre, "ATOMIC_GROUP", None):
        return _seq_required(av)
    if op is _sre.BRANCH:
        parts = [_seq_required(branch) for branch in av[1]]
        if any(p is None for p in parts):
            return None
        return frozenset().union(*parts)  # type: ignore[arg-type]
    if op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT, getattr(_sre, "POSSESSIVE_REPEAT", None)):
        lo, _, body = av
        return _seq_required(body) if lo >= 1 else None
    if op is _sre.ASSERT:  # a positive look-around still needs its text somewhere in the string
        return _seq_required(av[1])
    if op is _sre.IN:  # e.g. \d or [\d,]: a digit or one of the listed characters
        atoms: set[Atom] = set()
        for o, v in av:
            if o is _sre.LITERAL:
                atoms.add(("s", chr(v)))
            elif o is _sre.CATEGORY and v is _sre.CATEGORY_DIGIT:
                atoms.add(("c", "digit"))
            else:
                return None
        return frozenset(atoms)
    return None


def _key(atom: Atom) -> str:
    """What indexes an atom: its longest word, or its text."""
    kind, value = atom
    return max(sorted(value), key=len) if kind == "w" else value


def _score(req: Requirement) -> tuple[int, int, int]:
    """Prefer fewer tests beyond word lookups, then longer shortest keys (rarer), then fewer
    atoms."""
    tests = sum(kind != "w" for kind, _ in req)
    shortest = min(6 if a[0] == "c" else len(_key(a)) for a in req)
    return (-tests, min(shortest, 6), -len(req))


def _seq_required(items: Sequence[tuple]) -> Requirement | None:
    """Best requirement of a sequence."""
    clauses = _seq_clauses(items)
    return max(clauses, key=_score) if clauses else None


def _seq_clauses(items: Sequence[tuple]) -> list[Requirement]:
    """Requirements of a sequence, every one necessary: one per run of exactly expandable nodes
    (concatenated) and one per other node that has one."""
    candidates: list[Requirement] = []
    run: Strings = frozenset({""})

    def flush() -> None:
        req = _as_requirement(run)
        if req is None:
            return
        candidates.append(req)
        # whole words say nothing of their order; for a few multi-word strings the phrases
        # themselves are a second, sharper requirement (one substring test each)
        plain = frozenset(x.translate(_STRIP) for x in run)
        if len(plain) <= _MAX_PHRASES and any(" " in x for x in plain) and all(
                kind == "w" for kind, _ in req):
            candidates.append(frozenset(("s", x) for x in plain))

    for node in items:
        sub = _exact(node)
        if sub is not None:
            joined = _cat(run, sub)
            if joined is None:
                flush()
                run = sub
            else:
                run = joined
            continue
        flush()
        run = frozenset({""})
        req = _required(node)
        if req:
            candidates.append(req)
    flush()
    return candidates


def requirements(pattern: str | re.Pattern) -> tuple[Requirement, ...]:
    """Requirements that every match of ``pattern`` meets in the searched text, all of them,
    best first (see :func:`_score`); empty when nothing is known (flags other than the
    defaults, or nothing literal to hold on to)."""
    compiled = pattern if isinstance(pattern, re.Pattern) else re.compile(pattern)
    if not isinstance(compiled.pattern, str) or compiled.flags & ~(re.UNICODE | re.ASCII):
        return ()  # IGNORECASE, MULTILINE, VERBOSE, ...: not analysed
    try:
        clauses = _seq_clauses(list(_sre.parse(compiled.pattern, compiled.flags)))
    except Exception:  # noqa: BLE001 - an unexpected parser version: no filter, still correct
        return ()
    return tuple(sorted(dict.fromkeys(c for c in clauses if c), key=_score, reverse=True))


def requirement(pattern: str | re.Pattern) -> Requirement | None:
    """The best single requirement of ``pattern`` (see :func:`requirements`), or None."""
    clauses = requirements(pattern)
    return clauses[0] if clauses else None


def _holds(req: Requirement, text: str, text_words: frozenset[str]) -> bool:
    for kind, value in req:
        if kind == "w":
            if value <= text_words:
                return True
        elif kind == "s":
            if value in text:
                return True
        elif _CLASSES[value].search(text):
            return True
    return False


_Checks = tuple[frozenset[str], tuple[frozenset[str], ...], tuple[str, ...],
                tuple[Requirement, ...]]


def _checks(clauses: Sequence[Requirement]) -> _Checks:
    """Clauses recast as fast tests that they imply: words that must all be present, sets of
    words of which one must be, substrings that must all be present, and the rest (checked
    atom by atom). A word clause "all of A1, or all of A2, ..." implies the words common to
    every ``Ai`` and one word beyond them from some ``Ai``: weaker, but two set operations."""
    must: set[str] = set()
    any_of: list[frozenset[str]] = []
    subs: list[str] = []
    other: list[Requirement] = []
    for clause in clauses:
        if len(clause) == 1 and next(iter(clause))[0] == "s":
            subs.append(next(iter(clause))[1])
            continue
        if not all(kind == "w" for kind, _ in clause):
            other.append(clause)
            continue
        sets = [value for _, value in clause]
        common = frozenset.intersection(*sets)
        must |= common
        keys = [max(sorted(ws - common), key=len) for ws in sets if ws - common]
        if len(keys) == len(sets):
            any_of.append(frozenset(keys))
    return frozenset(must), tuple(any_of), tuple(subs), tuple(other)


def _structure(pattern: str, start: int = 0) -> Iterator[tuple[int, str, int]]:
    """``(index, character, depth after it)`` of each ``(``, ``)`` and ``|`` of ``pattern`` from
    ``start`` on, skipping escapes and character classes; an unclosed class ends the scan with
    ``(index, "[", depth)``."""
    depth, k, n = 0, start, len(pattern)
    while k < n:
        c = pattern[k]
        if c == "\\":
            k += 2
            continue
        if c == "[":
            end = _class_end(pattern, k)
            if end is None:
                yield k, c, depth
                return
            k = end
        elif c in "()|":
            depth += (c == "(") - (c == ")")
            yield k, c, depth
        k += 1


def _close(pattern: str, i: int) -> int | None:
    """Index of the ``)`` closing the group opened at ``pattern[i]``, or None; skips escapes and
    character classes."""
    for k, c, depth in _structure(pattern, i):
        if c == "[":
            return None
        if c == ")" and depth == 0:
            return k
    return None


def _class_end(pattern: str, i: int) -> int | None:
    """Index of the ``]`` ending the character class opened at ``pattern[i]``, or None."""
    k = i + 1
    if k < len(pattern) and pattern[k] == "^":
        k += 1
    if k < len(pattern) and pattern[k] == "]":  # a leading "]" is literal
        k += 1
    while k < len(pattern):
        if pattern[k] == "\\":
            k += 2
            continue
        if pattern[k] == "]":
            return k
        k += 1
    return None


def _split_top(pattern: str) -> list[str] | None:
    """``pattern`` split at its top-level ``|``, or None if it does not parse simply."""
    parts: list[str] = []
    start = depth = 0
    for k, c, depth in _structure(pattern):
        if c == "[":
            return None
        if c == "|" and depth == 0:
            parts.append(pattern[start:k])
            start = k + 1
    if depth != 0:
        return None
    parts.append(pattern[start:])
    return parts


_QUANTIFIERS = frozenset("*+?{")
_WORD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")


def _first_atom(s: str) -> str | None:
    """The leading ``\\d`` or ``[a-z0-9]`` character of ``s`` when nothing quantifies it."""
    atom = s[:2] if s.startswith("\\d") else s[:1] if s[:1] in _WORD_CHARS else None
    if atom is None or s[len(atom) : len(atom) + 1] in _QUANTIFIERS:
        return None
    return atom


def _behind_first(x: str, s: str) -> str | None:
    """A pattern equal to ``(?<!x)`` + ``s`` that starts with ``s``'s first atom ``c``:
    ``c(?<!xc)`` + the rest of ``s``; None if ``s`` has no such atom."""
    atom = _first_atom(s)
    if atom is None:
        return None
    return atom + "(?<!" + x + atom + ")" + s[len(atom) :]


def _after_boundary(s: str) -> str | None:
    """A pattern equal to ``\\b`` + ``s`` that starts with ``s``'s first atom, or None."""
    # the atom is a word character, so \b before it means "no word character before it"
    return _behind_first("\\w", s)


def _fast_branch(branch: str) -> str:
    """One top-level alternative, rewritten to start with a consuming atom where possible."""
    if branch.startswith("\\b(") and not branch.startswith("\\b(?"):
        end = _close(branch, 2)
        if end is None or branch[end + 1 : end + 2] in _QUANTIFIERS:
            return branch
        alts = _split_top(branch[3:end])
        new = [_after_boundary(a) for a in alts] if alts else None
        if not new or any(a is None for a in new):
            return branch
        return "(" + "|".join(new) + ")" + branch[end + 1 :]  # type: ignore[arg-type]
    if branch.startswith("\\b"):
        return _after_boundary(branch[2:]) or branch
    if branch.startswith("(?<!"):  # (?<!X)Y  ->  Y(?<!XY) for a one-character X
        end = _close(branch, 0)
        if end is None:
            return branch
        x = branch[4:end]
        one_char = (x.startswith("[") and _class_end(x, 0) == len(x) - 1) or (
            len(x) == 2 and x[0] == "\\" and x[1] in "wWdDsS")
        if one_char:
            return _behind_first(x, branch[end + 1 :]) or branch
    return branch


def fast_form(pattern: str) -> str:
    """A pattern that matches exactly where ``pattern`` does, but that ``re`` searches faster.

    ``re`` skips ahead to a possible first character only when each alternative of a pattern
    starts with a literal or a character class; one that starts with ``\\b`` or a look-behind
    is tried at every position of the text, several times slower. Before a word character
    ``c``, ``\\b`` means that the previous character is not a word character, so ``\\bc`` is
    rewritten ``c(?<!\\wc)`` (also inside a leading group of alternatives), and ``(?<!X)c`` for
    a one-character ``X`` is rewritten ``c(?<!Xc)``. Other patterns (and any with global inline
    flags) are returned unchanged.
    Tested equal on every lexicon pattern over many texts.
    """
    if re.match(r"\(\?[aiLmsux]", pattern):  # global inline flags (e.g. verbose): as is
        return pattern
    branches = _split_top(pattern)
    if branches is None:
        return pattern
    return "|".join(_fast_branch(b) for b in branches)


class RegexSet:
    """Compiled patterns plus their prefilter.

    ``patterns`` are the compiled patterns, ``searchers`` equivalent ones that search faster
    (:func:`fast_form`); ``candidates(text)`` returns the indices of the patterns that may match
    ``text``; every pattern that matches is among them. Build once per lexicon; thread-safe.
    """

    def __init__(self, patterns: Sequence[str | re.Pattern]) -> None:
        self.patterns: tuple[re.Pattern, ...] = tuple(
            p if isinstance(p, re.Pattern) else re.compile(p) for p in patterns)
        #: the patterns to search with: :func:`fast_form` where that applies
        self.searchers: tuple[re.Pattern, ...] = tuple(
            re.compile(fast_form(p.pattern), p.flags)
            if isinstance(p.pattern, str) and not p.flags & ~(re.UNICODE | re.ASCII) else p
            for p in self.patterns)
        always: list[int] = []
        index: dict[tuple[str, str], list[int]] = {}
        checks: dict[int, _Checks] = {}
        for i, p in enumerate(self.patterns):
            clauses = requirements(p)
            if not clauses:
                always.append(i)
                continue
            for atom in clauses[0]:  # the best clause picks candidates through an index ...
                index.setdefault((atom[0], _key(atom)), []).append(i)
            checks[i] = _checks(clauses[:_MAX_CLAUSES])  # ... then all are checked in full
        self.always: tuple[int, ...] = tuple(always)
        self._by_word = {k: tuple(ix) for (kind, k), ix in index.items() if kind == "w"}
        self._word_keys = frozenset(self._by_word)
        self._tests = tuple((k, tuple(ix)) for (kind, k), ix in index.items() if kind == "s")
        self._classes = tuple((_CLASSES[k], tuple(ix)) for (kind, k), ix in index.items()
                              if kind == "c")
        self._checks = checks

    def candidates(self, text: str) -> set[int]:
        """Indices of the patterns that may match ``text`` (a superset of those that do)."""
        found: set[int] = set()
        text_words = words(text)
        by_word = self._by_word
        for w in text_words & self._word_keys:  # the text's indexed words (a set operation)
            found.update(by_word[w])
        for s, ix in self._tests:
            if s in text:
                found.update(ix)
        for regex, ix in self._classes:
            if regex.search(text):
                found.update(ix)
        out = set(self.always)
        checks = self._checks
        for i in found:  # plain loops: this runs for every turn
            must, any_of, subs, other = checks[i]
            if not must <= text_words:
                continue
            ok = True
            for alternatives in any_of:
                if text_words.isdisjoint(alternatives):
                    ok = False
                    break
            if ok:
                for sub in subs:
                    if sub not in text:
                        ok = False
                        break
            if ok:
                for clause in other:
                    if not _holds(clause, text, text_words):
                        ok = False
                        break
            if ok:
                out.add(i)
        return out

    def __len__(self) -> int:
        return len(self.patterns)
