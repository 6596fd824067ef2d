"""hls4ml backend plugin ``LUTNet``: LUT networks (lutnet's LUT IR) to HLS C++ firmware or Verilog.

hls4ml calls :func:`register` through the entry point group ``hls4ml.backends`` (or the
``HLS4ML_BACKEND_PLUGINS`` environment variable).  Select the backend with ``backend='LUTNet'`` and
the output with ``output='cpp'`` (default) or ``output='verilog'`` (config key
``LUTNetConfig: {Output: ...}``)."""
from __future__ import annotations

NAME = 'LUTNet'


def register(register_backend, register_writer):
    """hls4ml's plugin hook: register the writer, the IR layers, the backend, the frontend handlers
    (once hls4ml's converters have loaded) and the ``hls4ml build/report`` dispatch for our projects."""
    from hls4ml.backends.backend import backend_map
    from hls4ml.writer.writers import writer_map

    from .hooks import when_imported
    from .layers import register_layers
    from .writer import LUTNetWriter

    register_layers()
    if NAME not in writer_map:
        register_writer(NAME, LUTNetWriter)
    if NAME.lower() not in backend_map:
        from .backend import LUTNetBackend
        register_backend(NAME, LUTNetBackend)

    from .frontends import install_converters, install_tracer
    from .frontends.stages import install_config
    when_imported('hls4ml.converters.pytorch_to_hls', install_converters)
    when_imported('hls4ml.utils.config', install_config)
    when_imported('hls4ml.utils.torch', install_tracer)
    from .cli import install_cli
    when_imported('hls4ml.cli', install_cli)


def convert_ir(ir, output_dir='my-lutnet-prj', project_name='myproject', output='cpp', argmax=False, **kwargs):
    """hls4ml ModelGraph of a LUT IR network: a ``lutnet.ir.NetworkIR`` (e.g. from
    ``lutnet.export.to_ir``) or the path of an IR file (``lutnet export``, ``NetworkIR.save``).
    The IR's stages become layers of their own (``LUTThermometer``, ``LUTDense``..., ``LUTGroupSum``,
    ``LUTArgmax``).  ``output``: ``'cpp'`` or ``'verilog'``; ``argmax=True`` appends an argmax layer
    to an IR without one; other keyword
    arguments go to the backend config (``part``, ``clock_period``, ``cflags``, ``pipeline``,
    ``table_style``, ``overwrite``: write into a directory holding another backend's project)."""
    import os

    from lutnet.errors import InputError
    from lutnet.ir import NetworkIR

    from .frontends.ir import convert_ir as _convert
    if isinstance(ir, (str, os.PathLike)):
        ir = NetworkIR.load(ir)
    elif not isinstance(ir, NetworkIR):
        raise InputError(f"convert_ir: expected a lutnet.ir.NetworkIR or the path of an IR file, got "
                          f"{type(ir).__name__}")
    return _convert(ir, output_dir=output_dir, project_name=project_name, output=output, argmax=argmax, **kwargs)


__all__ = ['register', 'convert_ir', 'NAME']
