"""Whole-model conversion for lutnet models that are more than a chain of LUT layers: DWN-style
stage models (thermometer encoder, table layers, GroupSum/popcount head, argmax;
``lutnet.nn.dwn.DWNNet`` and the subclassed Keras ``lutnet.keras.dwn.DWNModel``).

hls4ml's ``convert_from_pytorch_model`` / ``convert_from_keras_model`` end in
``hls4ml.converters.pytorch_to_hls`` / ``keras_v2_to_hls``; :func:`install` wraps those two: a model
for which :func:`lutnet.frontend.is_stage_model` holds is converted through its frontend's
``to_ir`` (the very IR every harness level checks) and :func:`.ir.ir_layer_list` (``LUTThermometer``,
``LUTDense``..., ``LUTGroupSum``, ``LUTArgmax``); every other model takes hls4ml's own path (where
lutnet's per-layer handlers take plain, PolyLUT-Add and NeuraLUT-Assemble LUT layers).  Such a model
converts only with ``backend='LUTNet'``."""
from __future__ import annotations

import functools

from lutnet.errors import UnsupportedModelError

from .ir import ir_layer_list

KEYS = {'pytorch_to_hls': 'PytorchModel', 'keras_v2_to_hls': 'KerasModel'}


def stage_model_of(config, key):
    """The config's model when it is a lutnet stage model (else None); importing no framework."""
    model = config.get(key)
    if model is None:
        return None
    from lutnet.frontend import is_stage_model
    return model if is_stage_model(model) else None


def convert_stage_model(config, model):
    from hls4ml.model import ModelGraph

    from lutnet.frontend import frontend_of

    from .. import NAME
    backend = config.get('Backend')
    if str(backend).lower() != NAME.lower():
        raise UnsupportedModelError(f"{type(model).__name__} is a lutnet DWN-style model (thermometer encoder, table "
                                    f"layers, GroupSum head): only the LUTNet backend converts it; use "
                                    f"backend='LUTNet' (got backend={backend!r})")
    ir = frontend_of(model).to_ir(model, metadata={'name': config.get('ProjectName', 'myproject')})
    layers = ir_layer_list(ir)
    return ModelGraph.from_layer_list(config, layers, inputs=[layers[0]['name']], outputs=[layers[-1]['name']])


def _wrap(name, stock):
    key = KEYS[name]

    @functools.wraps(stock)
    def convert(config, *args, **kwargs):
        model = stage_model_of(config, key)
        if model is None:
            return stock(config, *args, **kwargs)
        return convert_stage_model(config, model)

    convert._lutnet = True
    return convert


def install(p2h, k2, converters):
    """Wrap ``pytorch_to_hls`` and ``keras_v2_to_hls`` everywhere ``convert_from_pytorch_model`` /
    ``convert_from_keras_model`` may look them up: their modules (``p2h``, ``k2``; this runs right
    after ``pytorch_to_hls`` executes, before the half-initialized ``hls4ml.converters`` binds the
    name) and the ``hls4ml.converters`` package when it already holds the functions."""
    import types
    for module, name in ((p2h, 'pytorch_to_hls'), (k2, 'keras_v2_to_hls'), (converters, 'pytorch_to_hls'),
                         (converters, 'keras_v2_to_hls')):
        stock = getattr(module, name, None)
        if callable(stock) and not isinstance(stock, types.ModuleType) and not getattr(stock, '_lutnet', False):
            setattr(module, name, _wrap(name, stock))


def _wrap_config(name, stock):
    @functools.wraps(stock)
    def config_from(model, *args, **kwargs):
        from lutnet.frontend import is_stage_model
        if not is_stage_model(model):
            return stock(model, *args, **kwargs)
        import inspect
        bound = inspect.signature(stock).bind(model, *args, **kwargs)
        bound.apply_defaults()
        a = bound.arguments
        config = {'Model': {'Precision': {'default': a['default_precision']}, 'ReuseFactor': a['default_reuse_factor'],
                            'Strategy': 'Latency'}}
        if 'input_shape' in a:
            config['InputShape'] = a['input_shape']
        return config

    config_from._lutnet = True
    return config_from


def install_config(config_module):
    """``hls4ml.utils.config_from_pytorch_model`` / ``config_from_keras_model`` on a stage model: the
    model-level config (no per-layer tracing: the stages come from the model's IR), so the usual
    ``config = config_from_pytorch_model(model, ...)`` then ``convert_from_pytorch_model(model,
    hls_config=config, backend='LUTNet')`` works.  Patched in ``hls4ml.utils.config`` and, when it
    already re-exports them, the ``hls4ml.utils`` package."""
    import sys
    for name in ('config_from_pytorch_model', 'config_from_keras_model'):
        for module in (config_module, sys.modules.get('hls4ml.utils')):
            stock = getattr(module, name, None) if module is not None else None
            if callable(stock) and not getattr(stock, '_lutnet', False):
                setattr(module, name, _wrap_config(name, stock))
