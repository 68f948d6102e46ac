"""Int4 block-quantised GPT graph (`com.microsoft.MatMulNBits`, bits 4, block 32, symmetric,
accuracy_level 4 = int8 compute on CPUs with dot-product instructions), written by hand with the
`onnx` package like quantize_int8.py. Halves the weight stream again relative to int8 (spec
§10.1 "Precision": int4 weight-only for CPU speed; quality must be A/B-checked).

B is stored as (N, K/32, 16) uint8: for output column n and block b, the 32 codes of
W[b·32 : b·32+32, n] packed two per byte, low nibble first; w ≈ (code − 8) · scale[n, b].
"""
from __future__ import annotations

import sys

import numpy as np
from onnx import helper, numpy_helper

from matmul_rewrite import rewrite_weight_matmuls

BLOCK = 32


def quantize(src: str, dst: str, min_elements: int = 1024, accuracy_level: int = 4) -> int:
    def replace(n, wname, w):
        if w.size < min_elements or w.shape[0] % BLOCK != 0:
            return None
        k, n_out = w.shape
        blocks = k // BLOCK
        wt = w.T.reshape(n_out, blocks, BLOCK)  # (N, blocks, 32)
        scale = np.abs(wt).max(axis=2) / 7.0
        scale[scale == 0] = 1.0
        q = np.clip(np.rint(wt / scale[..., None]) + 8, 0, 15).astype(np.uint8)
        packed = (q[..., 0::2] | (q[..., 1::2] << 4)).astype(np.uint8)  # (N, blocks, 16)
        base = f"{wname}_q4"
        tensors = [numpy_helper.from_array(packed, base), numpy_helper.from_array(scale.reshape(-1).astype(np.float32), base + "_scale")]
        node = helper.make_node("MatMulNBits", [n.input[0], base, base + "_scale"], list(n.output),
                                name=(n.name or base) + "_q4", domain="com.microsoft",
                                K=k, N=n_out, bits=4, block_size=BLOCK, accuracy_level=accuracy_level)
        return node, tensors

    return rewrite_weight_matmuls(src, dst, replace)


if __name__ == "__main__":
    print(quantize(sys.argv[1], sys.argv[2]), "MatMuls quantised to int4")
