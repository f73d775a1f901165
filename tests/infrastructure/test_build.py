"""What `make build` ships in the Lambda layer: the product, never the local stack, its provider
sandbox or the command-line tool."""

from __future__ import annotations

import ast
import importlib.util
import shutil
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "layers" / "shared" / "python" / "inbox"


def build_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_script", ROOT / "scripts" / "build.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_layer_leaves_out_the_local_stack_the_sandbox_and_the_cli(tmp_path: Path) -> None:
    shipped = tmp_path / "inbox"

    shutil.copytree(PACKAGE, shipped, ignore=build_script().IGNORE)

    assert (PACKAGE / "local" / "sandbox").is_dir()
    assert not (shipped / "local").exists()
    assert not (shipped / "cli.py").exists()
    assert (shipped / "whatsapp" / "sending.py").is_file()
    # Nothing shipped may import what is left out.
    for module in shipped.rglob("*.py"):
        assert not {"inbox.local", "inbox.cli"} & imported(module), module


def imported(module: Path) -> set[str]:
    """The modules `module` imports, and their parent packages."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(module.read_text())):
        found = [a.name for a in node.names] if isinstance(node, ast.Import) else []
        if isinstance(node, ast.ImportFrom) and node.module:
            found = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
        for name in found:
            parts = name.split(".")
            names |= {".".join(parts[: i + 1]) for i in range(len(parts))}
    return names
