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


def test_dependencies_that_only_pick_from_the_state_run_on_the_event_loop() -> None:
    # A plain ``def`` dependency is a thread-pool hand-off per request: together they
    # cost each API call about a millisecond of CPU. Only those that read files stay off
    # the loop.
    import inspect

    from datapalooza.dashboard.api import dependencies

    reads_files = {"pipeline_status"}
    providers = {
        name: function
        for name, function in vars(dependencies).items()
        if inspect.isfunction(function)
        and function.__module__ == dependencies.__name__
        and name != "stored_setlists"  # a helper the routes call, not a dependency
    }
    assert {"dashboard_state", "settings", "now", "known_stages"} <= set(providers)
    for name, function in providers.items():
        assert inspect.iscoroutinefunction(function) == (name not in reads_files), name
