"""The lifecycle layers of .importlinter hold: no module imports a layer above its own, and the
contract does catch one that does."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONTRACT = ROOT / ".importlinter"


def lint_imports(lib: Path) -> subprocess.CompletedProcess:
    command = [sys.executable, "-c", "from importlinter.cli import lint_imports_command; lint_imports_command()",
               "--config", str(CONTRACT), "--no-cache"]
    return subprocess.run(command, cwd=lib, env={**os.environ, "PYTHONPATH": str(lib)}, capture_output=True, text=True, timeout=300)


def test_the_code_keeps_the_layers():
    result = lint_imports(ROOT / "lib")
    assert result.returncode == 0, result.stdout[-4000:]
    assert "0 broken" in result.stdout


def test_an_import_of_a_higher_layer_breaks_the_contract(tmp_path):
    shutil.copytree(ROOT / "lib/lakeforge", tmp_path / "lakeforge", ignore=shutil.ignore_patterns("__pycache__"))
    with (tmp_path / "lakeforge/tables/layout.py").open("a") as layout:
        layout.write("\nimport lakeforge.cli  # a table helper reaching for the command line\n")
    result = lint_imports(tmp_path)
    assert result.returncode == 1
    assert "lakeforge.tables.layout -> lakeforge.cli" in result.stdout
