"""The dashboard reads through ports: only its composition root names adapters."""

from __future__ import annotations

import ast
from pathlib import Path

import datapalooza.dashboard

COMPOSITION_ROOT = "bootstrap.py"


def imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports, at the top or inside a function."""
    modules = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
    return modules


def package_files(package: object) -> dict[str, Path]:
    root = Path(str(getattr(package, "__file__", ""))).parent
    return {str(p.relative_to(root)): p for p in sorted(root.rglob("*.py"))}


def test_only_the_composition_root_of_the_dashboard_imports_adapters() -> None:
    files = package_files(datapalooza.dashboard)
    assert COMPOSITION_ROOT in files and "api/stages.py" in files
    naming_adapters = {
        name
        for name, path in files.items()
        if any(m.startswith("datapalooza.adapters") for m in imported_modules(path))
    }
    assert naming_adapters == {COMPOSITION_ROOT}
