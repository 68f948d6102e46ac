"""The graph walk the weight quantisers share: every MatMul whose right operand is a 2-D float
initializer used by that node alone is handed to `replace`, which returns the node to put in its
place and the initializers it needs, or None to keep it. Replaced weights are dropped, the
`com.microsoft` opset is declared, and the model is saved to `dst`.
"""
from __future__ import annotations

from typing import Callable, Optional

import numpy as np
import onnx
from onnx import helper, numpy_helper

Replacement = Optional[tuple[onnx.NodeProto, list[onnx.TensorProto]]]


def rewrite_weight_matmuls(src: str, dst: str, replace: Callable[[onnx.NodeProto, str, np.ndarray], Replacement]) -> int:
    model = onnx.load(src)
    g = model.graph
    inits = {i.name: i for i in g.initializer}
    uses: dict[str, int] = {}
    for n in g.node:
        for name in n.input:
            uses[name] = uses.get(name, 0) + 1
    nodes, drop, added, count = [], set(), [], 0
    for n in g.node:
        wname = n.input[1] if n.op_type == "MatMul" and len(n.input) == 2 else None
        if wname in inits and uses.get(wname) == 1:
            w = numpy_helper.to_array(inits[wname]).astype(np.float32)
            r = replace(n, wname, w) if w.ndim == 2 else None
            if r is not None:
                node, tensors = r
                nodes.append(node)
                added += tensors
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
