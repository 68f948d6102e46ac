"""Speaker-string codec of spec §9.2: base16384(LZMA2_raw(fp16 bytes)).

Written from the format description (fumiama/base16384 bit layout, xz's raw LZMA2 stream), so
the exporter can ship `default` voices and a spk_stat in exactly the form the released model
uses, and the TypeScript decoder is tested against Python's liblzma.
"""
from __future__ import annotations

import lzma

import numpy as np

_BASE = 0x4E00
_TRAILER = 0x3D00
LZMA2_FILTERS = [{"id": lzma.FILTER_LZMA2, "preset": 9 | lzma.PRESET_EXTREME}]


def b16384_encode(data: bytes) -> str:
    out = []
    full = len(data) // 7 * 7
    for i in range(0, full, 7):
        v = int.from_bytes(data[i:i + 7], "big")
        out += [chr(_BASE + ((v >> s) & 0x3FFF)) for s in (42, 28, 14, 0)]
    r = len(data) - full
    if r:
        nchars = -(-8 * r // 14)
        v = int.from_bytes(data[full:] + b"\0" * (7 - r), "big")
        out += [chr(_BASE + ((v >> s) & 0x3FFF)) for s in (42, 28, 14, 0)[:nchars]]
        out.append(chr(_TRAILER + r))
    return "".join(out)


def b16384_decode(text: str) -> bytes:
    r = 0
    if text and _TRAILER < ord(text[-1]) <= _TRAILER + 6:
        r = ord(text[-1]) - _TRAILER
        text = text[:-1]
    out = bytearray()
    for i in range(0, len(text), 4):
        group = text[i:i + 4]
        v = 0
        for j in range(4):
            v = (v << 14) | ((ord(group[j]) - _BASE) if j < len(group) else 0)
        out += v.to_bytes(7, "big")
    # The last group holds only r bytes when a trailer is present (r = 6 fills all 4 chars).
    n = (len(text) - -(-8 * r // 14)) // 4 * 7 + r if r else len(text) // 4 * 7
    return bytes(out[:n])


def encode_speaker(vec: np.ndarray) -> str:
    raw = np.asarray(vec, dtype=np.float16).tobytes()
    return b16384_encode(lzma.compress(raw, format=lzma.FORMAT_RAW, filters=LZMA2_FILTERS))


def decode_speaker(text: str) -> np.ndarray:
    raw = lzma.decompress(b16384_decode(text), format=lzma.FORMAT_RAW, filters=LZMA2_FILTERS)
    return np.frombuffer(raw, dtype=np.float16).copy()


def encode_spk_stat(std: np.ndarray, mean: np.ndarray) -> str:
    """spk_stat is not compressed: base16384 of fp16 [std(768) | mean(768)] (spec §9.1)."""
    return b16384_encode(np.concatenate([std, mean]).astype(np.float16).tobytes())


def decode_spk_stat(text: str) -> tuple[np.ndarray, np.ndarray]:
    v = np.frombuffer(b16384_decode(text), dtype=np.float16)
    half = v.shape[0] // 2
    return v[:half].copy(), v[half:].copy()
