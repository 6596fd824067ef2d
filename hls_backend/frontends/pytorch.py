"""PyTorch (Brevitas) frontend: hls4ml's FX-based parser meets lutnet's LUT layers.

hls4ml traces models with ``CustomFXTracer``; lutnet's ``LUTLayer`` is made an FX leaf (QuantTensors
do not trace), and handlers turn the leaves into hls4ml layer dicts:

* ``LUTLayer`` -> ``LUTDense`` carrying the tables that ``lutnet.export.extract_layer`` makes (the
  function ``to_ir`` uses; nothing is re-derived here);
* ``QuantIdentity`` (Brevitas) -> ``LUTQuantizer`` (the input quantizer);
* ``argmax`` (method/function) -> ``LUTArgmax``; ``getattr`` ``.value`` (dequantized class scores,
  as ``LUTNet.forward`` returns) -> nothing: predict() returns the scores.

A model containing LUT layers is checked before tracing: one error names every module the LUTNet
backend cannot implement."""
from __future__ import annotations

from lutnet.errors import UnsupportedModelError

from .ir import lut_dense_dict

SUPPORTED_LEAVES = ('LUTLayer', 'QuantIdentity', 'Dropout')  # hls4ml skips Dropout


def _is_lut_module(m) -> bool:
    from lutnet.nn import LUTLayer
    return isinstance(m, LUTLayer)


def _backend_check(config, what):
    backend = config.get('Backend')
    if backend is not None and str(backend).lower() != 'lutnet':
        raise Exception(f"{what}: only the LUTNet backend converts it; use backend='LUTNet' (got backend={backend!r})")


def _quant_spec(module, where):
    from lutnet.quant import QuantInfo
    return QuantInfo(module, where)


def _producer_info(node, model, where):
    """The encoding (QuantInfo) of the tensor feeding ``node``: a LUT layer's output or a quantizer."""
    src = node.args[0]
    if getattr(src, 'op', None) == 'call_module':
        m = model.get_submodule(src.target)
        if _is_lut_module(m):
            return m.output_info()
        if type(m).__name__ in ('QuantIdentity', 'QuantReLU', 'QuantHardTanh'):
            return _quant_spec(m, f"{where}: quantizer {src.target!r}")
    raise ValueError(f"{where} has no input_quant and its input {getattr(src, 'name', src)!r} is neither a LUT layer "
                     f"nor a Brevitas quantizer: give it input_quant=... or put a QuantIdentity before it")


def parse_lut_layer(operation, layer_name, input_names, input_shapes, node, class_object, data_reader, config):
    from lutnet.export import DEFAULT_MAX_ROWS, extract_layer
    where = f"LUT layer {layer_name!r} ({class_object.name!r})"
    _backend_check(config, f"{where} is a lutnet module")
    model = data_reader.torch_model
    index = [m for m in model.modules() if _is_lut_module(m)].index(class_object)
    own = class_object.input_quant is not None
    src = class_object.input_info() if own else _producer_info(node, model, where)
    if input_shapes[0][-1] != class_object.in_features:
        raise ValueError(f"{where}: expects {class_object.in_features} inputs, gets shape {input_shapes[0][1:]}")
    was = class_object.training
    class_object.eval()
    try:
        max_rows = (config.get('LUTNetConfig') or {}).get('MaxRows') or DEFAULT_MAX_ROWS
        lut = extract_layer(class_object, src, index, max_rows)
    finally:
        class_object.train(was)
    lut.name = layer_name
    layer = lut_dense_dict(layer_name, input_names, lut, src.spec() if own else None,
                           class_object.output_info().spec())
    return layer, [input_shapes[0][0], class_object.out_features]


def parse_quant_identity(operation, layer_name, input_names, input_shapes, node, class_object, data_reader, config):
    _backend_check(config, f"Brevitas QuantIdentity {layer_name!r} (a LUT network's input quantizer; other "
                           f"Brevitas models reach hls4ml through QONNX)")
    spec = _quant_spec(class_object, f"quantizer {layer_name!r}").spec()
    layer = {'class_name': 'LUTQuantizer', 'name': layer_name, 'inputs': input_names, 'quant': spec,
             'n_in': int(input_shapes[0][-1])}
    return layer, list(input_shapes[0])


def parse_argmax(operation, layer_name, input_names, input_shapes, node, class_object, data_reader, config):
    dim = node.kwargs.get('dim', node.args[1] if len(node.args) > 1 else None)
    if dim not in (1, -1) or node.kwargs.get('keepdim'):
        raise ValueError(f"argmax {layer_name!r}: only argmax over the features (dim=1 or -1, keepdim=False) "
                         f"is supported; got dim={dim}")
    return {'class_name': 'LUTArgmax', 'name': layer_name, 'inputs': input_names}, [input_shapes[0][0], 1]


def parse_getattr(operation, layer_name, input_names, input_shapes, node, class_object, data_reader, config):
    attr = node.args[1] if len(node.args) > 1 else None
    if attr != 'value':
        raise ValueError(f"{layer_name}: attribute access .{attr} is not supported (only a QuantTensor's .value)")
    # .value dequantizes the codes: the firmware keeps codes, predict() returns the dequantized scores.
    return {'class_name': 'LUTDequantize', 'name': layer_name, 'inputs': input_names}, list(input_shapes[0])


HANDLERS = {'LUTLayer': parse_lut_layer, 'QuantIdentity': parse_quant_identity, 'argmax': parse_argmax,
            'getattr': parse_getattr}


def register_handlers(register, existing):
    for name, fn in HANDLERS.items():
        if name not in existing:
            register(name, fn)


def check_model(tracer, root):
    """One error naming every leaf module of a LUT model that the LUTNet backend cannot implement
    (the leaves are what hls4ml's tracer will hand to the layer handlers)."""
    import torch
    bad = []

    def visit(module, prefix):
        for name, m in module.named_children():
            qual = f"{prefix}.{name}" if prefix else name
            if tracer.is_leaf_module(m, qual) and not isinstance(m, (torch.nn.ModuleList, torch.nn.ModuleDict)):
                if type(m).__name__ not in SUPPORTED_LEAVES:
                    bad.append(f"{qual!r} ({type(m).__name__})")
            else:
                visit(m, qual)

    visit(root, '')
    if bad:
        raise UnsupportedModelError(f"the LUTNet backend cannot implement {len(bad)} module(s) of this model: "
                                    f"{'; '.join(bad)}. "
                         f"It implements lutnet LUT layers (lutnet.nn.LUTLayer), an input quantizer "
                         f"(brevitas QuantIdentity) and a final argmax; train the other layers as LUT layers "
                         f"or leave them out of the model")


def _op_name(node) -> str:
    if node.op == 'call_method':
        return f".{node.target}()"
    t = node.target
    mod = getattr(t, '__module__', None) or ''
    name = getattr(t, '__name__', str(t))
    if mod.startswith('torch'):
        mod = 'torch.nn.functional' if 'functional' in mod else 'torch'
    return f"{mod}.{name}" if mod and mod != 'builtins' else name


def _supported_op(node) -> bool:
    if node.op in ('call_method', 'call_function') and getattr(node.target, '__name__', node.target) == 'argmax':
        return True
    return node.op == 'call_function' and node.target is getattr and len(node.args) > 1 and node.args[1] == 'value'


def check_graph(graph, root):
    """One error naming, in the user's terms (their module's class and the operation as written:
    ``torch.softmax``, ``.softmax()``), every function or method call the LUTNet backend cannot
    implement; the tracer's internal node names (``getattr_1``) never reach the user."""
    bad = [n for n in graph.nodes if n.op in ('call_method', 'call_function') and not _supported_op(n)]
    if not bad:
        return
    def where(node):  # the user's module whose forward made the call (innermost, when FX recorded it)
        stack = node.meta.get('nn_module_stack') or {}
        if stack:
            path, cls = list(stack.values())[-1]
            cls = getattr(cls, '__qualname__', str(cls).rsplit('.', 1)[-1].strip("'>"))
            return f"{cls}.forward" + (f" (module {path!r})" if path else "")
        return f"{type(root).__qualname__}.forward"

    calls = {}
    for n in bad:
        calls.setdefault(where(n), []).append(_op_name(n))
    ops = '; '.join(f"{w} calls {', '.join(dict.fromkeys(o))}" for w, o in calls.items())
    hint = (" A softmax does not change which class scores highest: convert the model without it (keep it in "
            "the loss only)." if any('softmax' in _op_name(n) for n in bad) else "")
    raise UnsupportedModelError(f"the LUTNet backend cannot implement what this model computes: {ops}. It implements LUT "
                     f"layers, an input quantizer, the class scores (a QuantTensor's .value) and a final argmax."
                     f"{hint}")


def extend_tracer(tracer_cls):
    if getattr(tracer_cls, '_lutnet', False):
        return
    stock_leaf, stock_trace = tracer_cls.is_leaf_module, tracer_cls.trace

    def is_leaf_module(self, m, module_qualified_name):
        return _is_lut_module(m) or stock_leaf(self, m, module_qualified_name)

    def trace(self, root, *args, **kwargs):
        lut = hasattr(root, 'modules') and any(_is_lut_module(m) for m in root.modules())
        if lut:
            check_model(self, root)
        graph = stock_trace(self, root, *args, **kwargs)
        if lut:
            check_graph(graph, root)
        return graph

    tracer_cls.is_leaf_module, tracer_cls.trace, tracer_cls._lutnet = is_leaf_module, trace, True
