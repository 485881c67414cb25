"""Keep the committed reflex.lock/ untouched by `make run` and the test build.

Reflex persists the frontend's package.json and bun.lock in reflex.lock/ and copies them back from
its web directory after every frontend install. It renders package.json itself as one line of
`json.dumps` (reflex_base.compiler.templates.package_json_template); bun writes it indented, but only
when `bun add` changes a dependency. So:

- reflex.lock/package.json is committed in Reflex's own rendering (tests/test_tooling.py checks it);
  after adding a frontend package, re-render it with `python -m devtools.reflex_lock`.
- A web directory built before that (bun's indented copy) would be copied back over the committed
  file; `align_web_dir` first gives it the committed bytes when it holds the same JSON, so nothing
  is rewritten. A web directory with different dependencies is left alone: Reflex re-renders it.
"""

from __future__ import annotations

import json
from pathlib import Path

from devtools.services import ROOT

LOCK_DIR = ROOT / "reflex.lock"


def rendered(package: dict[str, object]) -> str:
    """package.json as Reflex writes it (the same keys in the same order, one line)."""
    from reflex_base.compiler.templates import package_json_template

    rest = dict(package)
    return package_json_template(
        scripts=rest.pop("scripts", None) or {},  # type: ignore[arg-type]
        dependencies=rest.pop("dependencies", None) or {},  # type: ignore[arg-type]
        dev_dependencies=rest.pop("devDependencies", None) or {},  # type: ignore[arg-type]
        overrides=rest.pop("overrides", None) or {},  # type: ignore[arg-type]
        **rest,
    )


def align_web_dir(web_dir: Path) -> None:
    """Give `web_dir` the committed bytes of package.json when it holds the same JSON.

    (bun.lock needs nothing: Reflex copies the committed one over a web directory's that differs.)"""
    committed, built = LOCK_DIR / "package.json", web_dir / "package.json"
    if not committed.exists() or not built.exists() or committed.read_bytes() == built.read_bytes():
        return
    try:
        same = json.loads(committed.read_text()) == json.loads(built.read_text())
    except ValueError:  # a damaged copy: Reflex re-renders it
        return
    if same:
        built.write_bytes(committed.read_bytes())


def normalize() -> None:
    """Rewrite reflex.lock/package.json in Reflex's rendering (after bun changed a dependency)."""
    path = LOCK_DIR / "package.json"
    path.write_text(rendered(json.loads(path.read_text())))


if __name__ == "__main__":
    normalize()
