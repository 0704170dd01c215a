"""Text that may hold a submission's strings, made safe at the place where it leaves the grader.

Error messages, printed output, cell sources, file names and a Gradescope export's names and emails
all come from students. Each exit has its rule:

- a file: valid UTF-8 (lone surrogates and NUL become U+FFFD), so writing never raises;
- a terminal: control, escape and bidirectional-override characters shown escaped, on one line;
- plain text (a report shown as it is): the same, but its lines kept;
- a spreadsheet cell: never read as a formula (OWASP's CSV-injection rule: a leading ``=``, ``+``,
  ``-``, ``@``, tab or carriage return gets a ``'`` in front), numbers left as they are;
- Markdown: shown as the text it is (every ASCII punctuation mark escaped, so no markup, link, image,
  autolink or HTML can form), on one line.
"""

from __future__ import annotations

import re
import string

_UNWRITABLE = re.compile("[\x00\ud800-\udfff]")
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_PUNCTUATION = re.compile("([" + re.escape(string.punctuation) + "])")


def for_file(text: str) -> str:
    return _UNWRITABLE.sub("\ufffd", text)


def for_terminal(text: str) -> str:
    return _CONTROLS.sub(lambda m: _escape(m.group()), text)


def for_text(text: str) -> str:
    return "\n".join(for_terminal(line) for line in text.split("\n"))


def for_sheet(text: str) -> str:
    text = for_file(text)
    if text.startswith(_FORMULA_START) and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


def for_markdown(text: str) -> str:
    one_line = " ".join(for_file(text).splitlines())
    return _PUNCTUATION.sub(r"\\\1", one_line)


def fence(text: str) -> str:
    """A Markdown code fence longer than any run of backticks in ``text``, so that ``text`` cannot close it."""
    longest = max((len(run) for run in re.findall("`+", text)), default=0)
    return "`" * max(3, longest + 1)


def in_json(value):
    """``value`` (nested lists, dicts, strings, numbers) with every string made safe for a file."""
    if isinstance(value, str):
        return for_file(value)
    if isinstance(value, dict):
        return {for_file(str(k)): in_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [in_json(v) for v in value]
    return value


def one_line(text: str, limit: int = 300) -> str:
    """The first line of ``text``, at most ``limit`` characters (for a status)."""
    lines = text.strip().splitlines() or [""]
    first = lines[0]
    return first if len(first) <= limit else first[: limit - 1] + "…"


def _escape(character: str) -> str:
    code = ord(character)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
