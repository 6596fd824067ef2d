"""The LUTNet hls4ml backend: passes + flows + templates + writer; compile/predict/build."""
from __future__ import annotations

from hls4ml.backends.backend import Backend
from hls4ml.backends.fpga.fpga_backend import FPGABackend
from hls4ml.model.flow import register_flow
from hls4ml.model.optimizer import model_optimizer
from hls4ml.writer import get_writer

from .project import OUTPUTS
from .templates import TEMPLATES

NAME = 'LUTNet'
DEFAULT_PART = 'xcvu9p-flgb2104-2-i'


class LUTNetBackend(Backend):
    def __init__(self):
        super().__init__(NAME)
        self.writer = get_writer(NAME)
        for template in TEMPLATES:
            self.register_template(template)
        self._register_flows()

    def _register_flows(self):
        fold = register_flow('fold_quantizers', ['lutnet:fold_input_quantizer', 'lutnet:fold_layer_input_quant',
                                                 'lutnet:drop_output_dequantize'], backend=self.name)
        validate = register_flow('validate', ['lutnet:validate_lut_graph'], requires=[fold], backend=self.name)
        templates = register_flow('apply_templates', self._get_layer_templates, requires=[validate],
                                  backend=self.name)
        self._default_flow = register_flow('project', None, requires=[templates], backend=self.name)
        self._writer_flow = register_flow('write', ['lutnet:write_project'], requires=[self._default_flow],
                                          backend=self.name)

    # ---------------------------------------------------------------- hls4ml Backend API
    def create_initial_config(self, part=DEFAULT_PART, clock_period=5, output='cpp', cflags='-O2', pipeline=1,
                              table_style='rom', simulator='verilator', overwrite=False, max_rows=None,
                              namespace=None, write_tar=False, **_):
        """``output``: ``'cpp'`` (HLS C++ firmware, C simulation with g++) or ``'verilog'`` (RTL from
        lutnet.rtl, simulated with Verilator).  Stored as ``LUTNetConfig: {Output: ...}``.
        ``cflags``: g++ flags of the C simulation; ``pipeline``/``table_style``: Verilog options of
        ``lutnet.rtl.write_verilog``; ``max_rows``: bound on one neuron's table when the PyTorch
        frontend extracts tables (default lutnet.export.DEFAULT_MAX_ROWS); ``overwrite``: write into a
        non-empty directory that is not an hls4ml/lutnet project."""
        if output not in OUTPUTS:
            raise ValueError(f"LUTNet backend: output={output!r} is not one of {OUTPUTS}")
        return {
            'Part': part,
            'ClockPeriod': clock_period,
            'IOType': 'io_parallel',
            'LUTNetConfig': {'Output': output, 'CFlags': cflags, 'Pipeline': pipeline, 'TableStyle': table_style,
                             'Simulator': simulator, 'Overwrite': bool(overwrite), 'MaxRows': max_rows},
            'HLSConfig': {},
            'WriterConfig': {'Namespace': namespace, 'WriteWeightsTxt': False, 'WriteTar': write_tar},
        }

    def create_layer_class(self, layer_class):
        return layer_class

    def get_default_flow(self):
        return self._default_flow

    def get_writer_flow(self):
        return self._writer_flow

    @classmethod
    def convert_precision_string(cls, precision):
        return FPGABackend.convert_precision_string(precision)

    def write(self, model):
        model.apply_flow(self._writer_flow)

    @model_optimizer()
    def write_project(self, model):
        self.writer.write_hls(model)
        return True

    def compile(self, model):
        """C++: build the C simulation library with g++ (returns its path for ctypes);
        Verilog: build the Verilator model (returns None: predict runs it)."""
        from .simulation import compile_model
        return compile_model(model)

    def predict(self, model, x, codes=False):
        """Outputs of the compiled model.  ``x``: float features (quantized by the network's input
        quantizer) or, with ``codes=True``, input codes.  Returns class scores (float32; output
        codes with ``codes=True``), or class indices when the model ends in an argmax."""
        from .simulation import predict_model
        return predict_model(model, x, codes=codes)

    def build(self, model, **kwargs):
        """Vendor flow (Vitis/Vivado HLS for C++, Vivado for Verilog) when on PATH, else the open
        flow (Yosys, or lutnet's estimator); see :func:`hls_backend.build.build_project`."""
        from .build import build_project
        return build_project(model.config.get_output_dir(), **kwargs)

    # ---------------------------------------------------------------- hls4ml CLI (hls_backend.cli)
    def build_project(self, project_dir, extra_args=(), list_options=False) -> int:
        """``hls4ml build -p <project> [options]``; returns the exit status."""
        import argparse

        from .build import METHODS, build_project
        p = argparse.ArgumentParser(prog=f'hls4ml build -p {project_dir}', add_help=False)
        p.add_argument('-m', '--method', choices=METHODS, default='auto', help='open flow: yosys, estimate or auto')
        p.add_argument('--open', action='store_true', help='run the open flow even if vendor tools are on PATH')
        p.add_argument('--vendor', action='store_true', help='require the vendor flow (Vitis/Vivado)')
        p.add_argument('-c', '--simulation', action='store_true', help='vendor C++ flow: C simulation only')
        p.add_argument('-r', '--co-simulation', action='store_true', help='vendor C++ flow: also C/RTL cosimulation')
        p.add_argument('-e', '--export', action='store_true', help='vendor C++ flow: also export the IP')
        if list_options:
            p.print_help()
            return 0
        a = p.parse_args(list(extra_args))
        vendor = False if a.open else (True if a.vendor else 'auto')
        build_project(project_dir, method=a.method, vendor=vendor, csim=True, synth=not a.simulation,
                      cosim=a.co_simulation, export=a.export)
        return 0

    def report_project(self, project_dir, extra_args=(), list_options=False) -> int:
        """``hls4ml report -p <project>``: print the saved build report."""
        import json

        from .build import read_report
        if list_options:
            print(f'usage: hls4ml report -p {project_dir}  (prints {project_dir}/build_report.json)')
            return 0
        print(json.dumps(read_report(project_dir), indent=1))
        return 0
