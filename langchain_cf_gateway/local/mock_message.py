"""The words of a user message, as the mock reads them to pick a tool and fill in values.

The rules (documented for users in `local/README.md`):

- **Bounded.** Only the first `MESSAGE_CHARS_MAX` (20,000) characters of the message are
  read, and an enum value is looked for when it has at most `PHRASE_WORDS_MAX` (3) words.
- **Words.** A word is a run of letters, digits and `_`, compared in lower case; a word
  longer than 4 characters ending in `s` also matches without it (`cities` ~ `citie`,
  `forecasts` ~ `forecast`). Words of fewer than 4 characters and common English words
  (`what`, `with`, `tell`, ...) never match a description.
- **A value after a key.** Where a key (a property's name, a part of it, or a word of its
  description) occurs in the message, the value is what follows it, past connecting words
  (`is`, `=`, `:`, `of`, `in`, `for`, `to`, `the`, ...): a quoted string, a number, a run of
  capitalised words (`San Francisco`) or else one word. The first key in priority order
  that occurs (and is followed by a value) wins.
- **A name.** In the arguments of a tool the message chose, when no key gave a string
  property its value, the first plain string property (no `enum`, `const`, `default`,
  `format` or `pattern`) takes the message's first quoted string, or else its first run of capitalised words that does not open a
  sentence (`Lima` in "What is the weather in Lima?").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cached_property
from typing import Final

_TOKEN: Final = re.compile(
    r"\"([^\"]*)\"|'([^']*)'|`([^`]*)`|(-?\d+(?:\.\d+)?)(?!\w)|(\w+(?:['-]\w+)*)|(\S)"
)
_WORD: Final = re.compile(r"\w+")
_CAMEL: Final = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
# fmt: off
COMMON_WORDS: Final = frozenset((
    "about", "after", "again", "also", "answer", "because", "been", "before", "being", "call",
    "could", "does", "doing", "each", "from", "function", "give", "have", "here", "into",
    "just", "know", "like", "make", "more", "most", "much", "need", "please", "return", "show",
    "some", "tell", "than", "that", "their", "them", "then", "there", "these", "they", "this",
    "those", "tool", "under", "used", "using", "very", "want", "what", "when", "where",
    "which", "while", "with", "would", "your",
))
"""Words too common to tie a message to a tool's description or a property's."""
_CONNECTORS: Final = frozenset((
    "is", "are", "be", "was", "=", ":", "of", "in", "for", "to", "at", "on", "about", "the",
    "a", "an", "as", "with", "named", "called", "equal", "equals", "set",
))
_NOT_VALUES: Final = COMMON_WORDS | _CONNECTORS | frozenset((
    "and", "or", "but", "not", "me", "my", "key", "keys", "value", "values", "field", "json",
))
# fmt: on
MESSAGE_CHARS_MAX: Final = 20_000
"""The mock reads the first this many characters of a message (its work stays bounded)."""
PHRASE_WORDS_MAX: Final = 3
"""Longest enum value (in words) the mock looks for in a message."""


def normal(word: str) -> str:
    """A word in the form the mock compares (lower case, a plural `s` dropped)."""
    word = word.lower()
    return word[:-1] if len(word) > 4 and word.endswith("s") else word


def words(text: str) -> list[str]:
    """The normal words of `text`, in order."""
    return [normal(w) for w in _WORD.findall(text)]


def key_words(name: str, description: str = "") -> list[str]:
    """The words of a name (split at `_`, `-` and camelCase) and of its description.

    In priority order and without repeats: the whole name, its parts, then the
    description's words of 4 or more characters that are not `COMMON_WORDS`.
    """
    found: list[str] = [normal(name)] if _WORD.fullmatch(name) else []
    found += words(_CAMEL.sub("_", name).replace("_", " "))
    found += [w for w in words(description) if len(w) >= 4 and w not in COMMON_WORDS]
    return list(dict.fromkeys(w for w in found if w))


class MessageText:
    """One user message, tokenised once (quoted strings, numbers, words, punctuation)."""

    def __init__(self, text: str) -> None:
        """Keep `text` (its first `MESSAGE_CHARS_MAX` characters), tokenised on first use.

        Args:
            text: the message's text.
        """
        self.text = text[:MESSAGE_CHARS_MAX]

    @cached_property
    def tokens(self) -> list[tuple[str, str]]:
        """(kind, text) of each token: `quoted`, `number`, `word` or `punct`."""
        tokens: list[tuple[str, str]] = []
        for match in _TOKEN.finditer(self.text):
            quoted = next((g for g in match.groups()[:3] if g is not None), None)
            if quoted is not None:
                tokens.append(("quoted", quoted))
            elif match.group(4) is not None:
                tokens.append(("number", match.group(4)))
            elif match.group(5) is not None:
                tokens.append(("word", match.group(5)))
            else:
                tokens.append(("punct", match.group(6)))
        return tokens

    @cached_property
    def words(self) -> frozenset[str]:
        """The message's normal words."""
        return frozenset(words(self.text))

    @cached_property
    def first_at(self) -> dict[str, int]:
        """Where each lower-case word first occurs (its index among the words)."""
        found: dict[str, int] = {}
        for index, word in enumerate(_WORD.findall(self.text.lower())):
            found.setdefault(word, index)
        return found

    @cached_property
    def _phrases(self) -> frozenset[str]:
        """The lower-case runs of 1 to `PHRASE_WORDS_MAX` consecutive words."""
        seq = _WORD.findall(self.text.lower())
        return frozenset(
            " ".join(seq[i : i + n])
            for n in range(1, PHRASE_WORDS_MAX + 1)
            for i in range(len(seq))
        )

    def mentions(self, phrase: str) -> bool:
        """Whether the words of `phrase` (at most `PHRASE_WORDS_MAX`) occur in a row, any case."""
        seq = _WORD.findall(phrase.lower())
        return 0 < len(seq) <= PHRASE_WORDS_MAX and " ".join(seq) in self._phrases

    def quoted_names(self) -> list[str]:
        """Identifier-like quoted strings (`'setup'`), in order, not after `:`/`=`, no repeats."""
        names = [
            value
            for index, (kind, value) in enumerate(self.tokens)
            if kind == "quoted"
            and re.fullmatch(r"[A-Za-z_][\w-]{0,63}", value)
            and not (index and self.tokens[index - 1][1] in (":", "="))  # a value, not a name
        ]
        return list(dict.fromkeys(names))

    def proper_name(self) -> str | None:
        """The first quoted string, or run of capitalised words not opening a sentence."""
        opening = True
        for index, (kind, value) in enumerate(self.tokens):
            if kind == "quoted" and value.strip():
                return value
            if kind == "word" and value[:1].isupper() and value != "I" and not opening:
                return self._value_at(index)
            opening = kind == "punct" and value in ".!?"
        return None

    def value_after(self, keys: Iterable[str]) -> str | None:
        """The value following the first of `keys` (normal words) found in the message."""
        positions: dict[str, list[int]] = {}
        for index, (kind, value) in enumerate(self.tokens):
            if kind in ("word", "quoted"):
                positions.setdefault(normal(value), []).append(index)
        for key in keys:
            for index in positions.get(key, ()):
                found = self._value_at(index + 1)
                if found is not None:
                    return found
        return None

    def _value_at(self, index: int) -> str | None:
        tokens = self.tokens
        while index < len(tokens) and (
            tokens[index][1].lower() in _CONNECTORS
            or (tokens[index][0] == "punct" and tokens[index][1] in ":=")
        ):
            index += 1
        if index >= len(tokens):
            return None
        kind, value = tokens[index]
        if kind in ("quoted", "number"):
            return value
        if kind != "word" or value.lower() in _NOT_VALUES:
            return None
        if not value[:1].isupper():
            return value
        run = [value]
        for kind, more in tokens[index + 1 :]:
            if kind != "word" or not more[:1].isupper():
                break
            run.append(more)
        return " ".join(run)
