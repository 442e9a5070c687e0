"""The package's layers (README "Layout"): imports point downward only, and only the backend door
imports backend libraries. Read from the source, so a new upward import (lazy ones included) fails here."""

import ast
import pathlib

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "neuralcore"

# Lowest first. A module may import modules of its own layer or of layers below it.
LAYERS = [
    ["device"],
    ["kernels", "_cuda", "exceptions"],
    ["frames", "validation", "weights", "metrics", "init", "activations", "losses", "optim"],
    ["datasets", "loaders", "files"],
    ["network"],
    ["logistic", "two_layer"],
    ["data", "scaling"],
    ["train", "solvers", "progress", "budget"],
    ["persistence"],
    ["base", "routing"],
    ["estimators"],
    ["gradcheck", "plot", "cli", "__init__", "__main__"],
]
RANK = {module: rank for rank, layer in enumerate(LAYERS) for module in layer}
BACKEND_LIBRARIES = {"cupy", "torch", "jax", "dask", "distributed", "array_api_strict"}


def modules():
    return sorted(path.stem for path in PACKAGE.glob("*.py"))


def imports_of(module: str, folder: pathlib.Path = PACKAGE):
    """``(name, lineno)`` of every neuralcore module and top-level package ``module`` imports, lazily or not."""
    tree = ast.parse((folder / f"{module}.py").read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                found.append((node.module.split(".")[0], node.lineno))
            else:
                found.extend((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.module.split(".")[0], node.lineno))
        elif isinstance(node, ast.Import):
            found.extend((alias.name.split(".")[0], node.lineno) for alias in node.names)
    return found


def test_every_module_has_a_layer():
    assert sorted(set(modules()) - set(RANK)) == []


@pytest.mark.parametrize("module", modules())
def test_imports_point_downward(module):
    upward = [
        f"{module}.py:{line} imports {name}"
        for name, line in imports_of(module)
        if name in RANK and RANK[name] > RANK[module] and module != "__init__"
    ]
    assert upward == []


@pytest.mark.parametrize("module", modules())
def test_only_the_backend_door_imports_backend_libraries(module):
    found = [f"{module}.py:{line} imports {name}" for name, line in imports_of(module) if name in BACKEND_LIBRARIES]
    if module in ("device", "_cuda"):
        return
    assert found == []


@pytest.mark.parametrize("module", modules())
def test_every_module_opens_with_a_docstring(module):
    tree = ast.parse((PACKAGE / f"{module}.py").read_text(encoding="utf-8"))
    docstring = ast.get_docstring(tree)
    assert docstring and len(docstring.split()) >= 5, f"{module}.py needs a docstring saying what it is for"


def test_a_planted_upward_import_is_caught(tmp_path):
    """The check itself: an upward import hidden inside a function is found."""
    planted = tmp_path / "losses.py"
    source = (PACKAGE / "losses.py").read_text(encoding="utf-8")
    planted.write_text(source + "\n\ndef _x():\n    from .estimators import TwoLayerNet\n", encoding="utf-8")
    names = [name for name, _ in imports_of("losses", tmp_path)]
    assert "estimators" in names and RANK["estimators"] > RANK["losses"]
