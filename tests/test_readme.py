"""Every code block of README.md runs as written and shows what it prints.

Fences, by language:

- ```python: run. The blocks of one section (the text under one ``#``/``##``/``###``
  heading) run in order in one namespace, so a block may use what an earlier
  block of its section defined; each section starts from a fresh namespace.
- ```bash / ```sh: run by ``bash -e -o pipefail`` in a fresh temporary folder,
  with ``python`` being the interpreter running the tests, ``neuralcore`` being
  ``python -m neuralcore``, and ``PYTHONPATH`` the repository root.
- ```console: a transcript (``$ `` prompts and their output); not run here:
  tests/test_attack_docs.py runs each ``neuralcore``/``python`` command and compares the output
  (or says why one cannot run, e.g. the course's images are not shipped).
- ```text, or a fence with no language: output, a usage line or a picture; never
  run. A bare fence holding a ``$ `` prompt line must be ```console instead.
- any other language fails this test: say what a new kind of block is for here.

A python, bash or sh block that must not run (it installs something, or runs
the test suite itself) says so on the line right before its fence:
``<!-- not-run: the reason -->``. A shell block that runs ``pip install``
without that marker fails this test.

Shown values: in a python block, a comment after an expression that starts
with a value is a claim about that expression's value, checked when the block
runs (``net.score(X, y)   # 0.9475: training accuracy``). The value is read
from the start of the comment up to the end, or up to a ``:``, ``;`` or
whitespace after it, where prose may follow. A comment that starts with a
digit, a sign and a digit, ``(``, ``[``, a quote, ``True``, ``False`` or
``None`` must hold such a value (and follow an expression), else the test
fails; any other comment is prose. Values:

- an integer (``300``) matches an equal number exactly;
- a decimal (``0.9475``, ``2.1e-09``) matches a number that rounds to it at the
  digits shown: within half a unit of its last digit, or within a relative
  1e-9 for long values (BLAS may change the last bits);
- digits followed by ``...`` (``0.6931...``) match a number that starts with
  those digits (truncation, not rounding);
- ``'text'``, ``True``, ``False`` and ``None`` match equal values;
- a tuple or a list matches any sequence (a tuple, a list, a 1-D array) whose
  items match one by one;
- ``...`` alone matches anything: as an item, any number of items (zero or more).
"""

from __future__ import annotations

import ast
import copy
import io
import math
import os
import re
import subprocess
import sys
import tokenize
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"

RUN_LANGUAGES = {"python", "bash", "sh"}
TEXT_LANGUAGES = {"console", "text", ""}
INSTALLS = re.compile(r"\bpip3?\b.*\binstall\b|\bconda\b.*\binstall\b")
NOT_RUN = re.compile(r"^<!--\s*not-run:\s*(?P<reason>.*?)\s*-->\s*$")


# ------------------------------------------------------------------------------ reading the README


@dataclass
class Block:
    section: str
    language: str
    line: int  # line number of the opening fence, 1-based
    code: str
    not_run: str | None = None  # the reason, when marked not-run


@dataclass
class Section:
    title: str
    line: int
    blocks: list[Block] = field(default_factory=list)


def read_blocks(text: str) -> list[Block]:
    """Every fenced block of a Markdown text, with its section and language; unclosed fences fail."""
    blocks, section, fence, body, previous = [], "(before any heading)", None, [], ""
    for number, line in enumerate(text.splitlines(), start=1):
        if fence is None:
            if line.startswith("```"):
                marker = NOT_RUN.match(previous.strip())
                fence = Block(section, line[3:].strip(), number, "", marker.group("reason") if marker else None)
                if marker and not fence.not_run:
                    raise AssertionError(f"README.md line {number - 1}: a not-run marker must give its reason")
                body = []
            elif re.match(r"#{1,6} ", line):
                section = line.lstrip("#").strip()
            previous = line
        elif line.strip() == "```":
            fence.code = "\n".join(body) + "\n"
            blocks.append(fence)
            fence, previous = None, line
        else:
            body.append(line)
    if fence is not None:
        raise AssertionError(f"README.md line {fence.line}: the fence opened here is never closed")
    return blocks


def sections(blocks) -> list[Section]:
    """The python blocks to run, grouped by section, in order."""
    found: dict[str, Section] = {}
    for block in blocks:
        if block.language == "python" and block.not_run is None:
            found.setdefault(block.section, Section(block.section, block.line)).blocks.append(block)
    return list(found.values())


BLOCKS = read_blocks(README.read_text(encoding="utf-8"))
PYTHON_SECTIONS = sections(BLOCKS)
SHELL_BLOCKS = [b for b in BLOCKS if b.language in ("bash", "sh") and b.not_run is None]


# ------------------------------------------------------------------------------ shown values


@dataclass(frozen=True)
class Number:
    text: str
    truncated: bool  # shown as "0.6931...": the value starts with these digits

    @property
    def value(self) -> float:
        return float(self.text)

    @property
    def is_integer(self) -> bool:
        return not self.truncated and re.fullmatch(r"[-+]?\d+", self.text) is not None

    @property
    def unit(self) -> float:
        """One unit of the last digit shown."""
        mantissa, _, exponent = self.text.lower().partition("e")
        decimals = len(mantissa.partition(".")[2])
        return 10.0 ** (int(exponent or 0) - decimals)


WILDCARD = object()

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<number>[-+]?(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][-+]?\d+)?)(?P<truncated>\.\.\.)?
      | (?P<wildcard>\.\.\.)
      | (?P<string>'[^'\\]*'|"[^"\\]*")
      | (?P<name>True|False|None)\b
      | (?P<punct>[()\[\],])
    )""",
    re.VERBOSE,
)
CLAIM_START = re.compile(r"[-+]?\d|[(\['\"]|(?:True|False|None)\b")


def parse_shown(text: str):
    """The value at the start of a comment's text and the rest of the text; ValueError when there is none."""
    position = 0

    def token():
        nonlocal position
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise ValueError(f"cannot read a value at {text[position:]!r}")
        position = match.end()
        return match

    def value(match):
        if match.group("number"):
            return Number(match.group("number"), bool(match.group("truncated")))
        if match.group("wildcard"):
            return WILDCARD
        if match.group("string"):
            return match.group("string")[1:-1]
        if match.group("name"):
            return {"True": True, "False": False, "None": None}[match.group("name")]
        opening = match.group("punct")
        if opening not in "([":
            raise ValueError(f"unexpected {opening!r} in {text!r}")
        closing, items = ")" if opening == "(" else "]", []
        while True:
            item = token()
            if item.group("punct") == closing:
                break
            items.append(value(item))
            after = token()
            if after.group("punct") == closing:
                break
            if after.group("punct") != ",":
                raise ValueError(f"expected ',' or {closing!r} in {text!r}")
        return tuple(items) if opening == "(" else items

    shown = value(token())
    rest = text[position:]
    if rest and not (rest[0] in ":;" or rest[0].isspace()):
        raise ValueError(f"the value shown must end with the comment or be followed by ':', ';' or a space: {text!r}")
    return shown, rest


def _number_matches(shown: Number, actual) -> bool:
    if isinstance(actual, (bool, np.bool_)) or not isinstance(actual, (int, float, np.integer, np.floating)):
        return False
    actual = float(actual)
    if not math.isfinite(actual):
        return False
    if shown.is_integer:
        return actual == shown.value
    slack = 1e-9 * abs(shown.value) + 1e-300
    if shown.truncated:  # same sign, and |actual| in [|shown|, |shown| + unit)
        size, start = abs(actual), abs(shown.value)
        same_sign = shown.value == 0 or math.copysign(1, actual) == math.copysign(1, shown.value)
        return same_sign and start - slack <= size < start + shown.unit - slack
    return abs(actual - shown.value) <= shown.unit / 2 + slack


def _items_match(shown: list, actual: list) -> bool:
    if not shown:
        return not actual
    if shown[0] is WILDCARD:
        return any(_items_match(shown[1:], actual[start:]) for start in range(len(actual) + 1))
    return bool(actual) and matches(shown[0], actual[0]) and _items_match(shown[1:], actual[1:])


def matches(shown, actual) -> bool:
    """Whether a value read by ``parse_shown`` describes ``actual`` (see the module docstring)."""
    if shown is WILDCARD:
        return True
    if isinstance(shown, Number):
        if isinstance(actual, np.ndarray) and actual.ndim == 0:
            actual = actual[()]
        return _number_matches(shown, actual)
    if isinstance(shown, (tuple, list)):
        if isinstance(actual, np.ndarray) and actual.ndim == 1:
            actual = list(actual)
        if not isinstance(actual, (tuple, list)):
            return False
        return _items_match(list(shown), list(actual))
    if shown is None or isinstance(shown, bool):
        return (actual is None) if shown is None else (isinstance(actual, (bool, np.bool_)) and bool(actual) == shown)
    return isinstance(actual, str) and actual == shown


def show(shown) -> str:
    """A value read by ``parse_shown``, written as in the README."""
    if shown is WILDCARD:
        return "..."
    if isinstance(shown, Number):
        return shown.text + ("..." if shown.truncated else "")
    if isinstance(shown, tuple):
        return "(" + ", ".join(map(show, shown)) + ("," if len(shown) == 1 else "") + ")"
    if isinstance(shown, list):
        return "[" + ", ".join(map(show, shown)) + "]"
    return repr(shown)


# ------------------------------------------------------------------------------ running python blocks


def _comments(code: str) -> dict[int, str]:
    """Comment text (after ``#``) by line number within the block."""
    found = {}
    for token in tokenize.generate_tokens(io.StringIO(code).readline):
        if token.type == tokenize.COMMENT:
            found[token.start[0]] = token.string[1:].strip()
    return found


def _claims(code: str, tree: ast.Module, where) -> dict[int, object]:
    """The value shown for each top-level statement (by index) whose last line ends in a value comment."""
    claims, last_statement_on = {}, {stmt.end_lineno: index for index, stmt in enumerate(tree.body)}
    for line, comment in _comments(code).items():
        if not CLAIM_START.match(comment):
            continue
        try:
            shown, _ = parse_shown(comment)
        except ValueError as error:
            pytest.fail(f"{where(line)}: the comment shows a value that this test cannot read: {error}")
        index = last_statement_on.get(line)
        if index is None or not isinstance(tree.body[index], ast.Expr):
            pytest.fail(f"{where(line)}: a value is shown ({comment!r}) after something that is not an expression")
        claims[index] = shown
    return claims


def run_python(block: Block, namespace: dict) -> None:
    def where(line):
        return f"README.md, section {block.section!r}, block at line {block.line}, line {block.line + line}"

    try:
        tree = ast.parse(block.code)
    except SyntaxError as error:
        pytest.fail(f"{where(error.lineno or 0)}: not valid Python: {error.msg}: {error.text!r}")
    claims = _claims(block.code, tree, where)
    for index, stmt in enumerate(tree.body):
        source = ast.get_source_segment(block.code, stmt)
        node = ast.increment_lineno(copy.deepcopy(stmt), block.line)  # tracebacks give README.md's line numbers
        try:
            if index in claims:
                actual = eval(compile(ast.Expression(node.value), "README.md", "eval"), namespace)
            else:
                exec(compile(ast.Module([node], type_ignores=[]), "README.md", "exec"), namespace)
        except Exception as error:  # noqa: BLE001 - any exception fails the block, with where it happened
            details = "".join(traceback.format_exception(type(error), error, error.__traceback__)[-3:])
            pytest.fail(f"{where(stmt.lineno)}: `{source}` raised {type(error).__name__}: {error}\n{details}")
        if index in claims and not matches(claims[index], actual):
            pytest.fail(f"{where(stmt.end_lineno)}: `{source}` is {actual!r}, the README shows {show(claims[index])}")


# ------------------------------------------------------------------------------ tests


class TestFences:
    def test_every_block_is_known(self):
        problems = []
        for block in BLOCKS:
            where = f"README.md line {block.line} ({block.section})"
            if block.language not in RUN_LANGUAGES | TEXT_LANGUAGES:
                problems.append(f"{where}: unknown fence language {block.language!r}; "
                                f"use one of {sorted(RUN_LANGUAGES | TEXT_LANGUAGES - {''})}")
            if block.not_run is not None and block.language not in RUN_LANGUAGES:
                problems.append(f"{where}: a not-run marker before a {block.language or 'bare'} fence, which never runs")
            if block.language in ("", "text") and any(line.startswith("$ ") for line in block.code.splitlines()):
                problems.append(f"{where}: a transcript with '$ ' prompts: fence it as console")
            if block.language in ("bash", "sh") and block.not_run is None and INSTALLS.search(block.code):
                problems.append(f"{where}: installs packages: mark it <!-- not-run: reason --> on the line before")
        assert not problems, "\n".join(problems)

    def test_the_readme_has_blocks_to_run(self):
        assert len(PYTHON_SECTIONS) >= 3 and SHELL_BLOCKS

    def test_unknown_language_and_markers_are_read(self):
        text = ("## One\n<!-- not-run: installs -->\n```bash\npip install .\n```\n"
                "### Two\n```pyhton\nx = 1\n```\n")
        one, two = read_blocks(text)
        assert (one.section, one.language, one.line, one.not_run) == ("One", "bash", 3, "installs")
        assert one.code == "pip install .\n"
        assert (two.section, two.language, two.not_run) == ("Two", "pyhton", None)
        with pytest.raises(AssertionError, match="never closed"):
            read_blocks("```python\nx = 1\n")


class TestShownValues:
    @pytest.mark.parametrize(("comment", "actual"), [
        ("0.9475: training accuracy", 0.9475),
        ("0.945", np.float64(0.94500000001)),
        ("0.92", 0.9249),
        ("1271 (of 10000)", 1271),
        ("(0.9225, 300, 300)", (0.9225, 300, 300)),
        ("(2, 3)", (2, 3)),
        ("[0.6931..., 0.6930...]: cost per iteration", [0.69314, 0.693099]),
        ("(10, 0.06636018622473808); lbfgs: 54 iterations", (10, 0.066360186224738)),
        ("(2.1e-09, True)", (2.14e-9, np.True_)),
        ("['numpy', ...]: only the usable ones", ["numpy", "torch", "dask"]),
        ("['numpy', ...]", ["numpy"]),
        ("-1.5...", -1.59),
        ("'numpy:cpu'", "numpy:cpu"),
        ("...", object()),
    ])
    def test_matches(self, comment, actual):
        shown, _ = parse_shown(comment)
        assert matches(shown, actual)

    @pytest.mark.parametrize(("comment", "actual"), [
        ("0.9475", 0.945),
        ("0.945", 0.9456),
        ("1271", 1272),
        ("300", 300.5),
        ("(0.9225, 300, 300)", (0.9225, 300)),
        ("(0.9225, 300, 300)", 0.9225),
        ("[0.6931..., 0.6930...]", [0.69314, 0.69299]),
        ("0.6931...", 0.6932),
        ("2.1e-09", 2.2e-9),
        ("True", 1),
        ("1", True),
        ("['numpy', ...]", ["torch", "numpy"]),
        ("'numpy'", "cupy"),
        ("0.5", float("nan")),
    ])
    def test_mismatches(self, comment, actual):
        shown, _ = parse_shown(comment)
        assert not matches(shown, actual)

    @pytest.mark.parametrize("comment", ["(0.9, ", "[1, 2", "0.9x", "(1 2)", "1.0.0"])
    def test_unreadable(self, comment):
        with pytest.raises(ValueError):
            parse_shown(comment)

    def test_a_wrong_value_fails_with_where_it_is(self):
        block = Block("Demo", "python", 10, "x = 2\nx + 1   # 4: the sum\n")
        message = r"section 'Demo', block at line 10, line 12: `x \+ 1` is 3, the README shows 4"
        with pytest.raises(pytest.fail.Exception, match=message):
            run_python(block, {})

    def test_an_exception_fails_with_where_it_is(self):
        block = Block("Demo", "python", 10, "x = 2\ny = rng.normal()\n")
        message = r"block at line 10, line 12: `y = rng.normal\(\)` raised NameError"
        with pytest.raises(pytest.fail.Exception, match=message):
            run_python(block, {})

    def test_a_value_after_a_statement_fails(self):
        block = Block("Demo", "python", 1, "x = 2   # 2\n")
        with pytest.raises(pytest.fail.Exception, match="not an expression"):
            run_python(block, {})


@pytest.mark.parametrize("section", PYTHON_SECTIONS, ids=lambda s: s.title)
def test_python_blocks(section):
    namespace = {"__name__": "__readme__"}
    for block in section.blocks:
        run_python(block, namespace)


@pytest.fixture(scope="module")
def shell_env(tmp_path_factory):
    """An environment where ``python`` is this interpreter and ``neuralcore`` is ``python -m neuralcore``."""
    bin_dir = tmp_path_factory.mktemp("bin")
    for name, command in (("python", f'exec "{sys.executable}" "$@"'),
                          ("neuralcore", f'exec "{sys.executable}" -m neuralcore "$@"')):
        script = bin_dir / name
        script.write_text(f"#!/bin/sh\n{command}\n")
        script.chmod(0o755)
    pythonpath = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}", "PYTHONPATH": pythonpath}


@pytest.mark.parametrize("block", SHELL_BLOCKS, ids=lambda b: f"line{b.line}")
def test_shell_blocks(block, shell_env, tmp_path):
    if INSTALLS.search(block.code):  # TestFences names it; never install from a test
        pytest.fail(f"README.md line {block.line}: a shell block that installs packages is not marked not-run")
    done = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", block.code], cwd=tmp_path, env=shell_env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, (
        f"README.md, section {block.section!r}, {block.language} block at line {block.line} exited with "
        f"{done.returncode}:\n{block.code}\nstdout:\n{done.stdout[-2000:]}\nstderr:\n{done.stderr[-2000:]}")


class TestDatasetsListing:
    """``neuralcore datasets`` prints docstrings as plain text, as the README's transcript shows."""

    @pytest.mark.parametrize(("docstring", "plain"), [
        ("points on ``r = radius * sin(4 t)``.", "points on r = radius * sin(4 t)."),
        ("see :func:`make_planar` and `noise`", "see make_planar and noise"),
        (":py:class:`~neuralcore.TwoLayerNet` data", "TwoLayerNet data"),
        ("uniform in [-1, 1]^2: no line separates them", "uniform in [-1, 1]^2: no line separates them"),
    ])
    def test_plain_text(self, docstring, plain):
        from neuralcore.cli import _plain_text

        assert _plain_text(docstring) == plain

    def test_output_matches_the_readme(self, shell_env, tmp_path):
        done = subprocess.run(["neuralcore", "datasets"], cwd=tmp_path, env=shell_env, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert "`" not in done.stdout, done.stdout
        (transcript,) = [b for b in BLOCKS if b.language == "console" and b.code.startswith("$ neuralcore datasets\n")]
        shown = [line for line in transcript.code.splitlines()[1:] if line.strip() != "..."]
        printed = done.stdout.splitlines()
        assert shown and all(line in printed for line in shown), (shown, printed)
