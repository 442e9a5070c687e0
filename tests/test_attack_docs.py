"""Attack round 2, documentation: what README.md and the docstrings claim, checked by running it.

- the console transcripts of README.md (``$ neuralcore ...`` and ``$ python examples/...``) run, in order,
  in one folder, and print what the README shows (timings, the reason ``auto`` chose its backend and
  elided lines ``...`` aside); a transcript that cannot run here is listed with its reason;
- the Layout section names every module of the package, in layers that its imports respect;
- the signatures the README writes out are the methods' signatures;
- the sample-weight formulas (``alpha = 1 / (C * sum(w))``, ``w`` the effective weights) give
  scikit-learn's optimum;
- the scikit-learn checks that a ``standardize=True`` instance fails are the ones the README names.
"""

from __future__ import annotations

import ast
import inspect
import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import neuralcore as nc

from .test_layers import imports_of, modules
from .test_readme import BLOCKS, README

ROOT = Path(__file__).resolve().parent.parent
TEXT = README.read_text(encoding="utf-8")


# ------------------------------------------------------------------------------ console transcripts


def transcript_commands():
    """``(command, shown output lines, README line)`` of every transcript, in README order.

    A ``console`` block holds ``$ `` commands (a trailing ``\\`` continues one) and their
    output. The quick start's output is a ``text`` block after a not-run ``bash`` block
    whose last command is ``neuralcore ...``: the output of that command.
    """
    found = []
    for index, block in enumerate(BLOCKS):
        if block.language == "console":
            command, shown = None, []
            lines = block.code.splitlines()
            position = 0
            while position < len(lines):
                line = lines[position]
                if line.startswith("$ "):
                    if command is not None:
                        found.append((command, shown, block.line))
                    command, shown = line[2:], []
                    while command.endswith("\\") and position + 1 < len(lines):
                        position += 1
                        command = command[:-1].rstrip() + " " + lines[position].strip()
                elif command is not None and line.strip():
                    shown.append(line)
                position += 1
            if command is not None:
                found.append((command, shown, block.line))
        elif block.language == "text" and index and BLOCKS[index - 1].language == "bash":
            last = BLOCKS[index - 1].code.strip().split("&&")[-1].strip()
            if last.startswith("neuralcore ") or last == "neuralcore":
                found.append((last, [line for line in block.code.splitlines() if line.strip()], block.line))
    return found


TRANSCRIPTS = transcript_commands()

#: Transcripts this test does not run, by a pattern of their command, with the reason.
NOT_RUN = {
    r"\.h5\b": "needs the course's cat images, which are not shipped",
    r"^neuralcore info\b": "describes one machine (versions, platform, devices); tests/test_cli.py checks its form",
}


#: Timings in a transcript's output, by a pattern of its command: a time in seconds, other than ``0.73 s``.
TIMINGS = {
    r"examples/planar_hidden_sizes\.py": r"(?<=\s)\d+\.\d+$",  # the table's last column, "seconds"
}
TIME = re.compile(r"\b\d+\.\d+ s\b")


def _line_pattern(shown: str, timing: str | None = None) -> re.Pattern:
    """A README output line as a pattern: ``...`` is any text, a time (``0.73 s``, or ``timing``) any
    time, and ``backend: numpy:cpu (auto: ...)`` the backend with any reason (the reason depends on the machine)."""
    if shown.startswith("backend: ") and "(auto: " in shown:  # run here with NEURALCORE_BACKEND=numpy
        return re.compile(re.escape(shown.partition(" (auto: ")[0]) + r"( \(.*\))?")
    times = TIME if timing is None else re.compile(f"{TIME.pattern}|{timing}")
    pattern, position = "", 0
    for match in times.finditer(shown):
        pattern += _literal(shown[position:match.start()]) + r"\d+\.\d+" + (" s" if match.group().endswith(" s") else "")
        position = match.end()
    return re.compile(pattern + _literal(shown[position:]))


def _literal(text: str) -> str:
    return ".*".join(re.escape(part) for part in text.split("..."))


def output_matches(shown: list[str], printed: list[str], timing: str | None = None) -> bool:
    """Whether ``printed`` lines are ``shown``: a line ``...`` alone stands for any lines (zero or more)."""
    if not shown:
        return not printed
    if shown[0].strip() == "...":
        return any(output_matches(shown[1:], printed[start:], timing) for start in range(len(printed) + 1))
    return (bool(printed) and _line_pattern(shown[0].rstrip(), timing).fullmatch(printed[0].rstrip()) is not None
            and output_matches(shown[1:], printed[1:], timing))


class TestOutputMatching:
    @pytest.mark.parametrize(("shown", "printed", "timing"), [
        (["a", "...", "d"], ["a", "b", "c", "d"], None),
        (["a", "...", "b"], ["a", "b"], None),
        (["trained in 0.73 s (10 iterations)"], ["trained in 12.05 s (10 iterations)"], None),
        (["backend: numpy:cpu (auto: cupy is not installed)"], ["backend: numpy:cpu (auto: CUDA is not usable)"], None),
        (["backend: numpy:cpu (auto: ...)"], ["backend: numpy:cpu"], None),
        (["x 1...9 y"], ["x 1 and 9 y"], None),
        (["3 hidden units     94.00%     0.39"], ["3 hidden units     94.00%     1.20"], TIMINGS[r"examples/planar_hidden_sizes\.py"]),
    ])
    def test_matches(self, shown, printed, timing):
        assert output_matches(shown, printed, timing)

    @pytest.mark.parametrize(("shown", "printed"), [
        (["a", "...", "d"], ["a", "b", "c"]),
        (["accuracy: 96.48%"], ["accuracy: 96.47%"]),
        (["trained in 0.73 s (10 iterations)"], ["trained in 0.73 s (11 iterations)"]),
        (["backend: numpy:cpu (auto: ...)"], ["backend: cupy:0 (auto: ...)"]),
        (["a"], ["a", "b"]),
        (["3 hidden units     94.00%     0.39"], ["3 hidden units     93.00%     0.39"]),
        (["3 hidden units     94.00%     0.39"], ["3 hidden units     94.00%     1.20"]),
    ])
    def test_mismatches(self, shown, printed):
        assert not output_matches(shown, printed)


@pytest.fixture(scope="module")
def transcript_folder(tmp_path_factory):
    """A folder with the data files the transcripts name: scikit-learn's breast-cancer data as cancer.csv."""
    datasets = pytest.importorskip("sklearn.datasets")
    folder = tmp_path_factory.mktemp("transcripts")
    bunch = datasets.load_breast_cancer()
    with open(folder / "cancer.csv", "w", encoding="utf-8") as handle:
        handle.write(",".join([*bunch.feature_names, "target"]) + "\n")
        for row, label in zip(bunch.data, bunch.target):
            handle.write(",".join([*(repr(float(v)) for v in row), str(label)]) + "\n")
    return folder


def test_every_transcript_is_run_or_says_why_not():
    commands = [command for command, _, _ in TRANSCRIPTS]
    assert any(c.startswith("neuralcore train") for c in commands), commands
    for command in commands:
        assert command.startswith(("neuralcore", "python ")), f"a transcript of {command!r}: say how to run it here"


def test_transcripts_print_what_the_readme_shows(transcript_folder):
    """Run in README order in one folder: ``predict moons.npz`` reads what ``train --out moons.npz`` wrote."""
    env = {**os.environ, "NEURALCORE_BACKEND": "numpy", "PYTHONPATH": str(ROOT), "COLUMNS": "100"}
    env.pop("NEURALCORE_KERNELS", None)
    problems = []
    for command, shown, line in TRANSCRIPTS:
        if any(re.search(pattern, command) for pattern in NOT_RUN):
            continue
        words = command.split()
        argv = [sys.executable, "-m", "neuralcore", *words[1:]] if words[0] == "neuralcore" else \
            [sys.executable, *words[1:]]
        if words[0] == "python":
            argv[1] = str(ROOT / argv[1])
        done = subprocess.run(argv, cwd=transcript_folder, env=env, capture_output=True, text=True, timeout=300)
        printed = [text for text in done.stdout.splitlines() if text.strip()]
        timing = next((t for pattern, t in TIMINGS.items() if re.search(pattern, command)), None)
        if done.returncode != 0 or not output_matches(shown, printed, timing):
            problems.append(f"README.md line {line}: `{command}` (exit {done.returncode}) printed:\n"
                            + "\n".join(printed) + f"\n{done.stderr[-1000:]}\nthe README shows:\n" + "\n".join(shown))
    assert not problems, "\n\n".join(problems)


# ------------------------------------------------------------------------------ the Layout section


def layout_groups() -> tuple[list[str], dict[str, int]]:
    """The Layout picture: its groups from the top (``user-facing``...) and the group of each module named."""
    (picture,) = [b for b in BLOCKS if b.section == "Layout" and b.language == ""]
    groups, group_of = [], {}
    for line in picture.code.splitlines():
        label = re.match(r"(\S.*?)\s{2,}\S+\.(?:py|cu)\b", line)
        if label:
            groups.append(label.group(1))
        for name in re.findall(r"\b(\w+)\.py\b", line):
            group_of.setdefault(name, len(groups) - 1)
    return groups, group_of


class TestLayout:
    def test_names_every_module(self):
        _, group_of = layout_groups()
        missing = sorted(set(modules()) - set(group_of) - {"__init__", "__main__"})
        assert not missing, f"README.md's Layout does not name {missing}"

    def test_imports_point_downward_in_the_picture(self):
        """The README says each module imports only from its layer or the layers below it: the picture's order."""
        groups, group_of = layout_groups()
        upward = [f"{module}.py ({groups[group_of[module]]}) imports {name}.py ({groups[group_of[name]]})"
                  for module in modules() if module in group_of
                  for name, _ in imports_of(module) if name in group_of and group_of[name] < group_of[module]]
        assert not upward, "\n".join(upward)


# ------------------------------------------------------------------------------ signatures written out

METHODS = ("fit", "partial_fit", "score", "predict", "predict_proba", "predict_log_proba", "decision_function")


def written_signatures() -> list[tuple[str, str, int]]:
    """``(method, text, line)`` of each signature the README writes out: a backticked ``method(...)`` that
    reads as a ``def`` whose defaults are constants, with a default or a ``*`` (not a call such as
    ``fit(X, y, eval_set=(X_val, y_val))``)."""
    found = []
    for number, line in enumerate(TEXT.splitlines(), start=1):
        for method, arguments in re.findall(r"`(\w+)\(([^`]*)\)`", line):
            if method not in METHODS or not ("=" in arguments or "*" in arguments):
                continue
            try:
                definition = ast.parse(f"def {method}({arguments}): pass").body[0]
            except SyntaxError:
                continue
            defaults = [*definition.args.defaults, *(d for d in definition.args.kw_defaults if d is not None)]
            if all(isinstance(d, ast.Constant) for d in defaults):
                found.append((method, arguments, number))
    return found


def test_the_readme_writes_signatures():
    assert {method for method, _, _ in written_signatures()} >= {"fit", "partial_fit"}


@pytest.mark.parametrize(("method", "arguments", "line"), written_signatures(), ids=lambda v: str(v))
@pytest.mark.parametrize("Estimator", [nc.LogisticRegression, nc.TwoLayerNet, nc.NeuralNet])
def test_written_signature_is_the_methods(Estimator, method, arguments, line):
    actual = inspect.signature(getattr(Estimator, method))
    actual = actual.replace(parameters=[p for name, p in actual.parameters.items() if name != "self"])
    namespace = {}
    exec(f"def {method}({arguments}): pass", namespace)  # noqa: S102 - the README's own text, parsed above
    shown = inspect.signature(namespace[method])
    strip = lambda sig: [(p.name, p.kind, p.default) for p in sig.parameters.values()]  # noqa: E731
    assert strip(shown) == strip(actual), (f"README.md line {line} writes `{method}({arguments})`; "
                                           f"{Estimator.__name__}.{method} is {method}{actual}")


# ------------------------------------------------------------------------------ the weighted cost and scikit-learn's C


@pytest.mark.parametrize("class_weight", [None, "balanced", {0: 2.0, 1: 0.5}], ids=["none", "balanced", "dict"])
def test_alpha_from_C_uses_the_effective_weights(backend_case, class_weight):
    """README: ``alpha = 1 / (C * sum(w))`` with ``w_i = sample_weight[i] * class_weight[y_i]`` gives scikit-learn's
    optimum; with "balanced" that sum is ``sum(sample_weight)``, with a dict it is not (attack: a dict
    ``class_weight`` with ``alpha = 1 / (C * sum(sample_weight))`` misses scikit-learn's optimum by 0.05)."""
    linear_model = pytest.importorskip("sklearn.linear_model")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 3))
    y = (X[:, 0] + 0.5 * rng.normal(size=120) > 0.3).astype(int)
    w = rng.uniform(0.2, 3.0, size=120)
    C = 0.5
    if class_weight is None:
        effective = w
    elif class_weight == "balanced":
        effective = w * np.where(y == 1, w.sum() / (2 * w[y == 1].sum()), w.sum() / (2 * w[y == 0].sum()))
        assert np.isclose(effective.sum(), w.sum())  # what the README says "balanced" keeps
    else:
        effective = w * np.where(y == 1, class_weight[1], class_weight[0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = linear_model.LogisticRegression(C=C, class_weight=class_weight, tol=1e-12, max_iter=10000)
        reference.fit(X, y, sample_weight=w)
    float64 = backend_case.dtype == "float64"
    model = nc.LogisticRegression(solver="lbfgs", alpha=1 / (C * effective.sum()), class_weight=class_weight,
                                  tol=1e-10 if float64 else 1e-5, max_iter=1000, backend=backend_case.spec,
                                  dtype=backend_case.dtype).fit(X, y, sample_weight=w)
    tolerance = 1e-5 if float64 else 1e-3
    np.testing.assert_allclose(nc.to_numpy(model.coef_), reference.coef_, atol=tolerance)
    np.testing.assert_allclose(nc.to_numpy(model.intercept_), reference.intercept_, atol=tolerance)


# ------------------------------------------------------------------------------ standardize=True and scikit-learn's checks


def test_standardize_instances_fail_exactly_the_checks_the_readme_names():
    """README, differences from scikit-learn: the checks a ``standardize=True`` instance fails are named there
    (attack: it said "the two partial-fit checks fail; every other check passes", while the statistics, then
    unweighted, also failed ``check_sample_weight_equivalence_on_dense_data``; they are weighted now)."""
    pytest.importorskip("sklearn")
    from sklearn.utils.estimator_checks import check_estimator

    from .test_sklearn_checks import ESTIMATORS

    (bullet,) = [item for item in re.split(r"\n- ", TEXT) if item.startswith("With `standardize=True`")]
    named = set(re.findall(r"`(check_\w+)`", bullet))
    assert named, bullet
    failed = {}
    for estimator in ESTIMATORS:
        instance = type(estimator)(**{**estimator.get_params(), "standardize": True})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            results = check_estimator(instance, on_fail=None)
        failed[type(instance).__name__] = {r["check_name"] for r in results if r["status"] == "failed"}
    assert all(checks <= named for checks in failed.values()), (failed, named)
    assert set().union(*failed.values()) == named, (failed, named)
