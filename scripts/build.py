"""`make build`: the deployable assets under build/.

- build/layer/python/: the `inbox` package (without the local stack and CLI) and the runtime
  dependencies of pyproject.toml, as Linux wheels for the stack's Lambda runtime and architecture.
- build/functions/<name>/: each function's code.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "layers" / "shared" / "python")]
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from cdk.inbox_stack import ARCHITECTURE, RUNTIME  # noqa: E402

BUILD = ROOT / "build"
IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "local", "cli.py")
PLATFORMS = {"arm64": "manylinux2014_aarch64", "x86_64": "manylinux2014_x86_64"}


def main() -> None:
    shutil.rmtree(BUILD, ignore_errors=True)
    layer = BUILD / "layer" / "python"
    layer.mkdir(parents=True)
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    python_version = RUNTIME.name.removeprefix("python")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-compile",
            "--target",
            str(layer),
            "--platform",
            PLATFORMS[ARCHITECTURE.name],
            "--implementation",
            "cp",
            "--python-version",
            python_version,
            "--only-binary=:all:",
            *dependencies,
        ],
        check=True,
    )
    shutil.copytree(ROOT / "layers" / "shared" / "python" / "inbox", layer / "inbox", ignore=IGNORE)
    for function in sorted((ROOT / "functions").glob("*/handler.py")):
        shutil.copytree(function.parent, BUILD / "functions" / function.parent.name, ignore=IGNORE)
    size = sum(f.stat().st_size for f in layer.rglob("*") if f.is_file())
    print(
        f"build/layer: {size / 1e6:.1f} MB for {RUNTIME.name} on {ARCHITECTURE.name}; "
        f"build/functions: {len(list((BUILD / 'functions').iterdir()))} functions"
    )


if __name__ == "__main__":
    main()
