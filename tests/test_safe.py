"""The rules for text that leaves the grader (see autograder/report/safe.py), one exit at a time."""

import json

import pytest

from autograder.report import safe


def test_files_get_valid_utf8():
    text = safe.for_file("a lone \udcff surrogate, a NUL \x00, and é")
    assert text.encode("utf-8").decode("utf-8") == "a lone \ufffd surrogate, a NUL \ufffd, and é"
    assert json.dumps(safe.in_json({"k\udcff": ["\x00", 1, None]}), ensure_ascii=False).encode("utf-8")


def test_a_terminal_sees_escapes_escaped_on_one_line():
    shown = safe.for_terminal("red \x1b[31m, bell \x07, new\nline, override \u202e, C1 \x9b")
    assert shown == "red \\x1b[31m, bell \\x07, new\\x0aline, override \\u202e, C1 \\x9b"
    assert safe.for_text("two\nlines \x1b[2J") == "two\nlines \\x1b[2J"


@pytest.mark.parametrize("field, cell", [
    ('=HYPERLINK("http://x.example")', '\'=HYPERLINK("http://x.example")'), ("+cmd", "'+cmd"), ("-2+3", "'-2+3"),
    ("@SUM(1+1)", "'@SUM(1+1)"), ("\tx", "'\tx"), ("\rx", "'\rx"), ("-42", "-42"), ("+1.5e3", "+1.5e3"),
    ("Jane Doe", "Jane Doe"), ("a=b", "a=b"),
])
def test_a_spreadsheet_never_reads_a_formula_and_numbers_stay_numbers(field, cell):
    assert safe.for_sheet(field) == cell


def test_markdown_shows_text_as_text():
    shown = safe.for_markdown("[a](http://x) ![i](y) <b> **s** `c` | p | www.x.org\nnext")
    assert "\n" not in shown and all(f"\\{c}" in shown for c in "[]()!<>*`|.")
    assert safe.fence("text with ``` and ```` inside") == "`````"
