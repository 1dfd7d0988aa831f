"""docs/requirements-trace.md stays current: every code reference imports and every test node exists.

References are written in backticks: ``yunzheng.app.module.name`` (a module, or an attribute of
one, possibly nested like ``Class.method``) and ``path/to/test_file.py::test_name``. A rename
without updating the trace fails here.
"""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
TRACE = ROOT / "docs" / "requirements-trace.md"
CODE_REF = re.compile(r"`(yunzheng(?:\.\w+)+)`")
TEST_REF = re.compile(r"`([\w/]+\.py)::(\w+)`")


def _trace() -> str:
    return TRACE.read_text(encoding="utf-8")


def _resolve(dotted: str) -> object:
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            target: object = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for name in parts[cut:]:
            target = getattr(target, name)  # AttributeError names what is missing
        return target
    raise ModuleNotFoundError(dotted)


def test_the_trace_has_references() -> None:
    text = _trace()
    assert len(CODE_REF.findall(text)) >= 20
    assert len(TEST_REF.findall(text)) >= 20


@pytest.mark.parametrize("dotted", sorted(set(CODE_REF.findall(_trace()))))
def test_every_code_reference_exists(dotted: str) -> None:
    _resolve(dotted)


def _test_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        node.name
        for node in ast.walk(tree)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test")
    }


@pytest.mark.parametrize("node", sorted({f"{p}::{n}" for p, n in TEST_REF.findall(_trace())}))
def test_every_test_node_exists(node: str) -> None:
    path, name = node.split("::")
    file = ROOT / path
    assert file.is_file(), f"{path} does not exist"
    assert name in _test_names(file), f"{name} is not a test of {path}"


def test_a_missing_reference_would_be_caught() -> None:
    """The checks above can fail: a made-up name is reported."""
    with pytest.raises((AttributeError, ModuleNotFoundError)):
        _resolve("yunzheng.elicense.traffic_passes.no_such_function")
    assert "test_no_such_test" not in _test_names(ROOT / "yunzheng/web/tests/test_requirements_trace.py")
