"""Frontend glue: hls4ml layer handlers for lutnet's PyTorch (Brevitas) and Keras (QKeras) LUT layers."""
import sys


def install_converters(p2h):
    """Runs once ``hls4ml.converters.pytorch_to_hls`` has loaded (``hls4ml.converters`` imports it after
    its Keras v2 frontend): register the PyTorch and Keras handlers."""
    from . import keras, stages
    from .pytorch import register_handlers
    register_handlers(p2h.register_pytorch_layer_handler, p2h.layer_handlers)
    keras.install(sys.modules['hls4ml.converters.keras_v2_to_hls'], sys.modules['hls4ml.converters'])
    stages.install(p2h, sys.modules['hls4ml.converters.keras_v2_to_hls'], sys.modules['hls4ml.converters'])


def install_tracer(module):
    from .pytorch import extend_tracer
    extend_tracer(module.CustomFXTracer)
