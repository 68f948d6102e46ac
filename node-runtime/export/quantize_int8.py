"""Int8 weight quantisation of the GPT graph, by hand with the `onnx` package (Debian's
python3-onnx has no quantisation tools and onnxruntime's Python package is not installed).

Every MatMul whose right operand is a 2-D float initializer becomes onnxruntime's
`com.microsoft.DynamicQuantizeMatMul`: weights int8, symmetric, one scale per output column;
activations are quantised to uint8 per call by the kernel.

Weights use 7 bits (±63), onnxruntime's `reduce_range`: on x86 CPUs without VNNI the u8×s8 kernel
adds pairs of products in saturating 16-bit lanes (vpmaddubsw), and full-range int8 weights
overflow them — measured on an AVX2 machine: logits off by 53% of their scale, greedy picks 5 of
16 right; with 7-bit weights the drift is bounded again. The decode step is bound by reading
weights (755 MB fp32 per token for the full model, spec §11.2), so a 4× smaller weight stream is
the main CPU lever (spec §10.1 "Precision").
"""
from __future__ import annotations

import sys

import numpy as np
from onnx import helper, numpy_helper

from matmul_rewrite import rewrite_weight_matmuls


def quantize(src: str, dst: str, min_elements: int = 1024, qmax: int = 63) -> int:
    def replace(n, wname, w):
        if w.size < min_elements:
            return None
        scale = np.abs(w).max(axis=0) / float(qmax)
        scale[scale == 0] = 1.0
        q = np.clip(np.rint(w / scale), -qmax, qmax).astype(np.int8)
        base = f"{wname}_int8"
        tensors = [numpy_helper.from_array(q, base), numpy_helper.from_array(scale.astype(np.float32), base + "_scale"),
                   numpy_helper.from_array(np.zeros(w.shape[1], np.int8), base + "_zp")]
        node = helper.make_node("DynamicQuantizeMatMul", [n.input[0], base, base + "_scale", base + "_zp"],
                                list(n.output), name=(n.name or base) + "_dq", domain="com.microsoft")
        return node, tensors

    return rewrite_weight_matmuls(src, dst, replace)


if __name__ == "__main__":
    print(quantize(sys.argv[1], sys.argv[2]), "MatMuls quantised")
