"""The LUTNet hls4ml backend: passes + flows + templates + writer; compile/predict/build."""
from __future__ import annotations

from hls4ml.backends.backend import Backend
from hls4ml.backends.fpga.fpga_backend import FPGABackend
from hls4ml.model.flow import register_flow
from hls4ml.model.optimizer import model_optimizer
from hls4ml.writer import get_writer

from lutnet.errors import ConfigError

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
        validate = register_flow('validate', ['lutnet:validate_lut_graph', 'lutnet:check_config'], requires=[fold],
                                 backend=self.name)
        templates = register_flow('apply_templates', self._get_layer_templates, requires=[validate],
                                  backend=self.name)
        self._default_flow = register_flow('project', None, requires=[templates], backend=self.name)
        self._writer_flow = register_flow('write', ['lutnet:write_project'], requires=[self._default_flow],
                                          backend=self.name)

    # ---------------------------------------------------------------- hls4ml Backend API
    def create_initial_config(self, part=DEFAULT_PART, clock_period=5, output='cpp', cflags='-O2', pipeline=1,
                              table_style='rom', simulator='verilator', overwrite=False, max_rows=None,
                              namespace=None, write_tar=False, io_type='io_parallel', **stock):
        """``output``: ``'cpp'`` (HLS C++ firmware, C simulation with g++) or ``'verilog'`` (RTL from
        lutnet.rtl, simulated with Verilator).  Stored as ``LUTNetConfig: {Output: ...}``.
        ``cflags``: g++ flags of the C simulation; ``pipeline``/``table_style``: Verilog options of
        ``lutnet.rtl.write_verilog``; ``max_rows``: bound on one neuron's table when the PyTorch
        frontend extracts tables (default lutnet.export.DEFAULT_MAX_ROWS); ``overwrite``: write into a
        non-empty directory that is not a project of this backend (another backend's project, other
        files).  hls4ml's Vivado keywords ``clock_uncertainty``, ``write_weights_txt`` and
        ``tb_output_stream`` are accepted and have no effect; ``io_type='io_stream'`` is accepted with
        a warning (the design is fully parallel).  Any other keyword is a ConfigError."""
        from .config_check import check_keywords, install_hls_config_check
        check_keywords(stock)
        install_hls_config_check()
        if output not in OUTPUTS:
            raise ConfigError(f"LUTNet backend: output={output!r} is not one of {OUTPUTS}")
        lcfg = {'Output': output, 'CFlags': cflags, 'Pipeline': pipeline, 'TableStyle': table_style,
                'Simulator': simulator, 'Overwrite': bool(overwrite), 'MaxRows': max_rows}
        if io_type != 'io_parallel':
            lcfg['RequestedIOType'] = io_type  # warned about by the check_config pass, never used
        return {
            'Part': part,
            'ClockPeriod': clock_period,
            'IOType': 'io_parallel',
            'LUTNetConfig': lcfg,
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
        from hls4ml.model.optimizer import optimize_model

        # the C++ code strings from the current variable types: a model loaded from a .fml file has its
        # output type renamed to result_t by hls4ml (the saved strings name the type it had before)
        optimize_model(model, self._get_layer_templates())
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
        quantizer) or, with ``codes=True``, input codes; ``(N, n_inputs)``, or one 1-D sample (then
        one result without the batch dimension); an empty batch gives an empty ``(0, n_out)`` result.
        Returns class scores (float32; output codes with ``codes=True``), or class indices when the
        model ends in an argmax.  NaN features, a wrong feature count and non-integer or out-of-range
        codes are refused (lutnet.errors.InputError)."""
        from .simulation import predict_model
        return predict_model(model, x, codes=codes)

    def trace(self, model, x, codes=False):
        """``(prediction, trace)``: ``prediction`` as :meth:`predict`; ``trace[layer]`` the layer's
        output values (float32) and ``trace.codes[layer]`` its output codes (int64), computed by the
        compiled C simulation (C++) or by RTL simulation of each layer's prefix network (Verilog);
        see :class:`lutnet.hls_backend.simulation.Trace`.  ``hls_model.trace(x)`` calls this."""
        from .simulation import trace_model
        if model._top_function_lib is None and getattr(model, '_lutnet_sim', None) is None:
            model.compile()
        return trace_model(model, x, codes=codes)

    def build(self, model, **kwargs):
        """``hls_model.build(csim=True, synth=True, cosim=False, validation=False, export=False,
        vsynth=False, reset=False, fifo_opt=False, log_to_stdout=False, method='auto', vendor='auto',
        jobs=2, verbose=True)``: the vendor flow (Vitis/Vivado HLS for C++, Vivado for Verilog) when
        on PATH, else the open flow (Yosys, or lutnet's estimator); what each keyword does in each
        flow: :data:`lutnet.hls_backend.build.KEYWORDS`."""
        from .build import build_project
        from .simulation import project_dir
        return build_project(project_dir(model), **kwargs)

    # ---------------------------------------------------------------- hls4ml CLI (hls_backend.cli)
    def build_project(self, project_dir, extra_args=(), list_options=False) -> int:
        """``hls4ml build -p <project> [options]``; returns the exit status.  hls4ml's Vivado flags
        (-c -s -r -v -e --vivado-synthesis -a --reset) select the steps as in :meth:`build`; with none
        of them, the default steps run (C simulation and synthesis)."""
        import argparse

        from .build import METHODS, build_project
        p = argparse.ArgumentParser(prog=f'hls4ml build -p {project_dir}', add_help=False)
        p.add_argument('-m', '--method', choices=METHODS, default='auto',
                       help='open flow: yosys, estimate (milliseconds) or auto (yosys when installed)')
        p.add_argument('-j', '--jobs', type=int, default=2, help='parallel Yosys runs (open flow)')
        p.add_argument('--executor', choices=('threads', 'ray'), default='threads',
                       help='open flow: Yosys on a local thread pool or as Ray tasks [threads]')
        p.add_argument('--open', action='store_true', help='run the open flow even if vendor tools are on PATH')
        p.add_argument('--vendor', action='store_true', help='require the vendor flow (Vitis/Vivado)')
        p.add_argument('-q', '--quiet', action='store_true', help='no progress output')
        steps = p.add_argument_group('steps (hls4ml build flags; none given: -c -s)')
        steps.add_argument('-c', '--simulation', action='store_true',
                           help='C simulation (vendor: csim_design; open flow: the testbench with g++, or '
                                'RTL simulation of a Verilog project)')
        steps.add_argument('-s', '--synthesis', action='store_true',
                           help='synthesis (vendor: csynth_design / Vivado; open flow: Yosys or the estimate)')
        steps.add_argument('-r', '--co-simulation', action='store_true', help='C/RTL co-simulation (vendor HLS only)')
        steps.add_argument('-v', '--validation', action='store_true',
                           help='C/RTL validation: the testbench compares with tb_data (implies -r in the vendor flow)')
        steps.add_argument('-e', '--export', action='store_true', help='export the IP (vendor HLS only; implies -s)')
        steps.add_argument('--vivado-synthesis', action='store_true',
                           help='Vivado synthesis of the exported IP (vendor HLS; implies -s -e); open flow: as -s')
        steps.add_argument('-a', '--all', action='store_true', help='all of the above')
        steps.add_argument('--reset', action='store_true', help='remove previous builds first')
        if list_options:
            p.print_help()
            return 0
        a = p.parse_args(list(extra_args))
        vendor = False if a.open else (True if a.vendor else 'auto')
        flags = dict(csim=a.simulation, synth=a.synthesis, cosim=a.co_simulation, validation=a.validation,
                     export=a.export, vsynth=a.vivado_synthesis)
        if a.all:
            flags = dict.fromkeys(flags, True)
        elif not any(flags.values()):
            flags.update(csim=True, synth=True)
        # a LutnetError becomes one line `hls4ml build: error: ...`, exit 2 (lutnet._cli, via hls_backend.cli)
        build_project(project_dir, method=a.method, vendor=vendor, reset=a.reset, jobs=a.jobs, executor=a.executor, cli=True,
                      verbose=not a.quiet, **flags)
        return 0

    def report_project(self, project_dir, extra_args=(), list_options=False) -> int:
        """``hls4ml report -p <project>``: print the saved build report."""
        import json

        from .build import read_report
        if list_options:
            print(f'usage: hls4ml report -p {project_dir}  (prints {project_dir}/build_report.json)')
            return 0
        print(json.dumps(read_report(project_dir), indent=1))  # no report: one line `hls4ml report: error: ...`
        return 0
