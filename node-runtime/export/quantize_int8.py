"""Int8 weight quantisation of the GPT graph, by hand with the `onnx` package (Debian's
python3-onnx has no quantisation tools and onnxruntime's Python package is not installed).

Every MatMul whose right operand is a 2-D float initializer becomes onnxruntime's
`com.microsoft.DynamicQuantizeMatMul`: weights int8, symmetric, one scale per output column;
activations are quantised to uint8 per call by the kernel. The decode step is bound by reading
weights (755 MB fp32 per token for the full model, spec §11.2), so a 4× smaller weight stream is
the main CPU lever (spec §10.1 "Precision").
"""
from __future__ import annotations

import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper


def quantize(src: str, dst: str, min_elements: int = 1024) -> int:
    model = onnx.load(src)
    g = model.graph
    inits = {i.name: i for i in g.initializer}
    used_elsewhere: dict[str, int] = {}
    for n in g.node:
        for name in n.input:
            used_elsewhere[name] = used_elsewhere.get(name, 0) + 1
    nodes, drop, added, count = [], set(), [], 0
    for n in g.node:
        wname = n.input[1] if n.op_type == "MatMul" and len(n.input) == 2 else None
        if wname in inits and used_elsewhere.get(wname) == 1:
            w = numpy_helper.to_array(inits[wname]).astype(np.float32)
            if w.ndim == 2 and w.size >= min_elements:
                scale = np.abs(w).max(axis=0) / 127.0
                scale[scale == 0] = 1.0
                q = np.clip(np.rint(w / scale), -127, 127).astype(np.int8)
                base = f"{wname}_int8"
                added += [numpy_helper.from_array(q, base), numpy_helper.from_array(scale.astype(np.float32), base + "_scale"),
                          numpy_helper.from_array(np.zeros(w.shape[1], np.int8), base + "_zp")]
                nodes.append(helper.make_node("DynamicQuantizeMatMul", [n.input[0], base, base + "_scale", base + "_zp"],
                                              list(n.output), name=(n.name or base) + "_dq", domain="com.microsoft"))
                drop.add(wname)
                count += 1
                continue
        nodes.append(n)
    del g.node[:]
    g.node.extend(nodes)
    keep = [i for i in g.initializer if i.name not in drop]
    del g.initializer[:]
    g.initializer.extend(keep + added)
    if not any(o.domain == "com.microsoft" for o in model.opset_import):
        model.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    onnx.save(model, dst)
    return count


if __name__ == "__main__":
    print(quantize(sys.argv[1], sys.argv[2]), "MatMuls quantised")
