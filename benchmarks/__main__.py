"""Run benchmarks: ``python -m benchmarks`` runs the quick ones, ``python -m benchmarks NAME [ARGS...]``
one of them with its own arguments, ``python -m benchmarks all`` every one, ``--list`` lists them."""

from __future__ import annotations

import ast
import runpy
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def discover() -> dict[str, tuple[bool, str]]:
    """Benchmark modules beside this file: name -> (quick, first line of its docstring).

    Read from the source, not imported, so that listing never pays for a benchmark's imports.
    """
    found = {}
    for path in sorted(HERE.glob("*.py")):
        if path.stem.startswith("_"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        quick = any(isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "QUICK" for t in node.targets)
                    and isinstance(node.value, ast.Constant) and node.value.value is True for node in tree.body)
        doc = (ast.get_docstring(tree) or "").strip().splitlines()
        found[path.stem] = (quick, doc[0] if doc else "")
    return found


def run(name: str, args: list[str]) -> None:
    """Run ``benchmarks.NAME`` as ``python -m benchmarks.NAME ARGS`` would."""
    saved = sys.argv
    sys.argv = [f"benchmarks.{name}", *args]
    try:
        runpy.run_module(f"benchmarks.{name}", run_name="__main__", alter_sys=True)
    finally:
        sys.argv = saved


def main(argv: list[str]) -> int:
    """Dispatch; returns the exit code (2 for an unknown benchmark)."""
    modules = discover()
    if argv and argv[0] in ("-h", "--help", "--list", "list"):
        print(__doc__)
        for name, (quick, doc) in modules.items():
            print(f"  {name:<10} {'quick' if quick else '     '}  {doc}")
        return 0
    if not argv:
        chosen = [name for name, (quick, _) in modules.items() if quick]
        for name in chosen:
            run(name, [])
        return 0
    if argv[0] == "all":
        for name in modules:
            run(name, [])
        return 0
    name, args = argv[0], argv[1:]
    if name not in modules:
        print(f"no benchmark named {name!r}; there are: {', '.join(modules)}", file=sys.stderr)
        return 2
    run(name, args)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
