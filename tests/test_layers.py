"""The package's layers (README "Layout"): no import circle, no upward import, small modules.

Built from the sources alone (``ast``, nothing imported): every ``import`` and
``from ... import`` of the package, at module level or inside a function, is an
edge.  Each layer folder's ``__init__.py`` docstring ends with ``May import: ...``
naming the layers it may use; that line is the rule checked here.  Run alone with
``.venv/bin/python -m pytest tests/test_layers.py``.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "python" / "adcorrect"
TOP = {"cli", "__main__", ""}  # the root package and the modules at its root sit on top
LONG = 600


def modules() -> dict[str, Path]:
    out = {}
    for p in sorted(PKG.rglob("*.py")):
        parts = list(p.relative_to(PKG).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = p
    return out


MODS = modules()


def imports(mod: str, path: Path) -> set[str]:
    """The package modules that mod imports (a package's name when no submodule matches)."""
    here = mod.split(".") if path.name == "__init__.py" else mod.split(".")[:-1]
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[:len(here) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
            elif (node.module or "").split(".")[0] == "adcorrect":
                name = node.module[len("adcorrect"):].lstrip(".")  # type: ignore[index]
            else:
                continue
            for a in node.names:
                sub = f"{name}.{a.name}" if name else a.name
                out.add(sub if sub in MODS else name)
            if node.level and not node.module:
                out.add(name)  # ``from . import x`` runs the package's __init__ first
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] == "adcorrect":
                    out.add(a.name[len("adcorrect"):].lstrip("."))
    return {m for m in out if m != mod and m in MODS}


GRAPH = {m: imports(m, p) for m, p in MODS.items()}


def layer(mod: str) -> str:
    return mod.split(".")[0] if "." in mod or (PKG / mod).is_dir() else ""


LAYERS = sorted({layer(m) for m in MODS} - {""})


def allowed(pkg: str) -> set[str]:
    doc = ast.get_docstring(ast.parse((PKG / pkg / "__init__.py").read_text())) or ""
    m = re.search(r"^May import: (.*?)\.?\s*(?:\(|$)", doc, re.MULTILINE | re.DOTALL)
    assert m, f"adcorrect/{pkg}/__init__.py: the docstring has no 'May import:' line"
    return set(re.findall(r"``(\w+)``", m.group(1)))


def test_every_layer_says_what_it_may_import() -> None:
    for pkg in LAYERS:
        assert set(allowed(pkg)) <= set(LAYERS), pkg


def test_no_upward_import() -> None:
    bad = [f"{m} -> {t}" for m, ts in GRAPH.items() if layer(m) in LAYERS for t in ts
           if layer(t) != layer(m) and layer(t) not in allowed(layer(m))]
    assert not bad, "imports outside the layer's 'May import' list:\n" + "\n".join(bad)


def test_layers_form_no_circle() -> None:
    rule = {pkg: allowed(pkg) for pkg in LAYERS}
    assert _cycle(rule) is None, f"layer rules form a circle: {_cycle(rule)}"


def test_no_import_circle() -> None:
    cyc = _cycle(GRAPH)
    assert cyc is None, "import circle: " + " -> ".join(cyc or [])


@pytest.mark.parametrize("mod", sorted(MODS))
def test_module_size(mod: str) -> None:
    """A module over 600 lines says why in its docstring ("One module: ...")."""
    path = MODS[mod]
    n = len(path.read_text().splitlines())
    doc = ast.get_docstring(ast.parse(path.read_text())) or ""
    assert n <= LONG or "One module:" in doc, f"{path.relative_to(PKG)}: {n} lines"


def test_circle_detection_works() -> None:
    """The checker itself: a planted circle is found, a chain is not."""
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One circle of the directed graph (as a path back to its start), or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(v: str) -> list[str] | None:
        state[v] = 1
        stack.append(v)
        for w in sorted(graph.get(v, ())):
            if state.get(w) == 1:
                return stack[stack.index(w):] + [w]
            if w not in state and (found := visit(w)):
                return found
        stack.pop()
        state[v] = 2
        return None

    for v in sorted(graph):
        if v not in state and (found := visit(v)):
            return found
    return None
