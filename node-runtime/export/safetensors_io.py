"""Minimal safetensors reader/writer (8-byte LE header length, JSON header, raw little-endian
data). Debian ships no python3-safetensors; the format is small enough to read directly."""
from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import torch

_DT = {"F32": np.float32, "F16": np.float16, "BF16": None, "I64": np.int64, "I32": np.int32}


def load(path: str | Path) -> dict[str, torch.Tensor]:
    buf = Path(path).read_bytes()
    (n,) = struct.unpack("<Q", buf[:8])
    header = json.loads(buf[8:8 + n])
    base = 8 + n
    out: dict[str, torch.Tensor] = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        raw = buf[base + start: base + end]
        if info["dtype"] == "BF16":
            u16 = np.frombuffer(raw, dtype=np.uint16).astype(np.uint32) << 16
            arr = u16.view(np.float32)
        else:
            dt = _DT.get(info["dtype"])
            if dt is None:
                raise ValueError(f"{path}: unsupported dtype {info['dtype']} for {name}")
            arr = np.frombuffer(raw, dtype=dt)
        out[name] = torch.from_numpy(arr.reshape(info["shape"]).astype(np.float32 if arr.dtype.kind == "f" else arr.dtype))
    return out


def save(path: str | Path, tensors: dict[str, torch.Tensor]) -> None:
    header: dict[str, object] = {"__metadata__": {"format": "pt"}}
    blobs = []
    off = 0
    for name, t in tensors.items():
        a = t.detach().contiguous().numpy().astype(np.float32)
        b = a.tobytes()
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
