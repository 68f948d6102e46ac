"""Facts read from the user's own ChatTTS source checkout at export time (never committed here).

- `spk_stat`: the base16384 speaker statistics string, a literal in `ChatTTS/config/config.py`
  (`Config.spk_stat`), read with `ast` (the file is parsed, not executed or imported).
- the homophone map `ChatTTS/res/homophones_map.json` (single character → single character),
  written into the pack as `homophones.json` so the runtime applies it like upstream's Normalizer.
"""
from __future__ import annotations

import ast
import json
from pathlib import Path


class CheckoutError(RuntimeError):
    pass


def _package_dir(root: str | Path) -> Path:
    r = Path(root)
    for cand in (r / "ChatTTS", r):
        if (cand / "config" / "config.py").is_file():
            return cand
    raise CheckoutError(f"{root}: no ChatTTS/config/config.py (expected a checkout of 2noise/ChatTTS)")


def read_spk_stat(root: str | Path) -> str:
    path = _package_dir(root) / "config" / "config.py"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.target.id == "spk_stat":
            if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
                return node.value.value.strip()
    raise CheckoutError(f"{path}: no string literal `spk_stat`")


def read_homophones(root: str | Path) -> dict[str, str]:
    path = _package_dir(root) / "res" / "homophones_map.json"
    if not path.is_file():
        raise CheckoutError(f"{path} is missing")
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise CheckoutError(f"{path}: not an object")
    bad = [k for k, v in data.items() if not (isinstance(v, str) and len(k) == 1 and len(v) == 1)]
    if bad:
        raise CheckoutError(f"{path}: entries that are not one character to one character: {bad[:5]}")
    return data
