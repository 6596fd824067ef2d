"""The LUTNet writer: C++ (HLS) or Verilog project from an hls4ml graph of LUT layers.

Every project holds ``hls4ml_config.yml`` (read by the ``hls4ml`` CLI), ``lutnet_ir.npz`` (the
network's LUT IR, read by ``build``) and ``lutnet_project.json`` (what was written).  Tables are
formatted in bulk with numpy, one line per neuron."""
from __future__ import annotations

import os
import shutil
import stat
import tarfile
from pathlib import Path

import numpy as np
import yaml
from hls4ml.writer.writers import Writer

from lutnet._templates import render as render_template
from lutnet.vectors import random_input_codes

from .graph_ir import lut_structure, network_ir, stage_nodes
from .project import CONFIG_FILE, IR_FILE, check_output_dir, write_manifest

N_TB = 64


def template_dir() -> Path:
    from lutnet import firmware_templates
    return Path(firmware_templates.__file__).resolve().parent / 'hls'


def ap_types_dir() -> Path:
    import hls4ml
    return Path(hls4ml.__file__).resolve().parent / 'templates' / 'vivado' / 'ap_types'


def cpp_type(precision) -> str:
    return f"ap_{'' if precision.signed else 'u'}int<{precision.width}>"


def native_type(lo: int, hi: int) -> str:
    for bits in (8, 16, 32):
        if lo >= 0 and hi < (1 << bits):
            return f'uint{bits}_t'
        if -(1 << (bits - 1)) <= lo and hi < (1 << (bits - 1)):
            return f'int{bits}_t'
    return 'int64_t'


def dense_tables(lut, addr_width: int) -> np.ndarray:
    """(n_out, 2**addr_width) tables, each neuron's rows followed by zero padding."""
    rows = lut.table_rows
    dense = np.zeros((lut.out_features, 1 << addr_width), dtype=np.int64)
    pos = np.arange(lut.tables.size) - np.repeat(lut.offsets[:-1], rows)
    dense[np.repeat(np.arange(lut.out_features), rows), pos] = lut.tables
    return dense


def plain(obj):
    """The config as plain YAML data (models and arrays become short descriptions)."""
    if isinstance(obj, dict):
        return {str(k): plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [plain(v) for v in obj]
    if obj is None or isinstance(obj, (str, bool, int, float)):
        return obj
    if isinstance(obj, np.generic):
        return obj.item()
    return f'<{type(obj).__module__}.{type(obj).__name__}>'


class LUTNetWriter(Writer):
    def __init__(self):
        super().__init__()
        self._env = None

    def render(self, name, **kw) -> str:
        return render_template('hls', name, **kw)

    # ---------------------------------------------------------------- entry
    def write_hls(self, model):
        cfg = model.config.config
        lcfg = cfg['LUTNetConfig']
        out = Path(model.config.get_output_dir())
        check_output_dir(out, bool(lcfg.get('Overwrite', False)))
        out.mkdir(parents=True, exist_ok=True)
        ir = network_ir(model)
        if not ir.metadata.get('name'):  # reports name the network: the hls4ml project's name
            ir.metadata['name'] = model.config.get_project_name()
        ir.save(out / IR_FILE, overwrite=True)
        _, _, argmax = lut_structure(model)
        self.write_tb_data(out, ir, argmax is not None)
        if lcfg['Output'] == 'cpp':
            files = self.write_cpp(model, out)
        else:
            files = self.write_verilog(model, out, ir)
        self.write_yml(model, out)
        write_manifest(out, project=model.config.get_project_name(), output=lcfg['Output'],
                       argmax=argmax is not None, ir=IR_FILE, config=CONFIG_FILE, files=files,
                       part=model.config.get_config_value('Part'),
                       clock_period=model.config.get_config_value('ClockPeriod'),
                       pipeline=lcfg.get('Pipeline', 1) if lcfg['Output'] == 'verilog' else None)
        if model.config.get_writer_config().get('WriteTar', False):
            with tarfile.open(f'{out}.tar.gz', mode='w:gz') as archive:
                archive.add(out, arcname=out.name, filter=lambda t: None if t.name.endswith('.so') else t)

    def write_yml(self, model, out: Path):
        with open(out / CONFIG_FILE, 'w') as f:
            yaml.safe_dump(plain(model.config.config), f, sort_keys=False)

    def write_tb_data(self, out: Path, ir, argmax: bool):
        (out / 'tb_data').mkdir(exist_ok=True)
        codes = random_input_codes(ir, N_TB, seed=1)
        ref = ir.evaluate(codes)
        if argmax and not ir.argmax:
            ref = np.argmax(ref, axis=1)[:, None]
        np.savetxt(out / 'tb_data' / 'tb_input_codes.dat', codes, fmt='%d')
        np.savetxt(out / 'tb_data' / 'tb_output_codes.dat', ref, fmt='%d')

    # ---------------------------------------------------------------- C++ (HLS)
    def write_cpp(self, model, out: Path) -> list:
        project = model.config.get_project_name()
        lcfg = model.config.config['LUTNetConfig']
        inp, luts, argmax = lut_structure(model)
        fw = out / 'firmware'
        (fw / 'weights').mkdir(parents=True, exist_ok=True)
        (fw / 'nnet_utils').mkdir(exist_ok=True)
        shutil.copy(template_dir() / 'nnet_utils' / 'lutnet_lut.h', fw / 'nnet_utils' / 'lutnet_lut.h')
        if not (fw / 'ap_types').is_dir():
            shutil.copytree(ap_types_dir(), fw / 'ap_types')

        in_var = inp.get_output_variable()
        nodes = stage_nodes(model)  # encoder, LUT layers, head, argmax
        out_var = nodes[-1].get_output_variable()
        types, seen = [], set()
        for v in [in_var] + [n.get_output_variable() for n in nodes]:
            if v.type.name not in seen:
                seen.add(v.type.name)
                types.append({'name': v.type.name, 'cpp': cpp_type(v.type.precision)})
        for alias, v in (('input_t', in_var), ('result_t', out_var)):  # the top function's types
            if alias not in seen:
                seen.add(alias)
                types.append({'name': alias, 'cpp': v.type.name})
        tables, weights = [], []
        for n in luts:
            lut = n.get_attr('lut')
            aw = max(1, n.get_attr('addr_bits'))
            dense = dense_tables(lut, aw)
            name = f'table{n.index}_t'
            tables.append({'name': name, 'hls': cpp_type(n.get_output_variable().type.precision),
                           'native': native_type(int(dense.min(initial=0)), int(dense.max(initial=0)))})
            self.write_table(fw / 'weights' / f't{n.index}.h', f't{n.index}', name, dense)
            weights.append(f't{n.index}')
        variables = [{'name': v.name, 'size': v.size()} for v in (n.get_output_variable() for n in nodes)]
        internal = [{'name': v.name, 'type': v.type.name, 'size': v.size()}
                    for v in (n.get_output_variable() for n in nodes[:-1])]
        common = dict(project=project, n_inputs=in_var.size(), n_outputs=out_var.size(),
                      input_var=in_var.name, output_var=out_var.name, argmax=argmax is not None)
        calls = [{'code': n.get_attr('function_cpp'), 'var': n.get_output_variable().name,
                  'size': n.get_output_variable().size()} for n in nodes]
        files = {
            f'firmware/{project}.h': self.render('firmware/myproject.h.j2', guard=project.upper(), **common),
            'firmware/defines.h': self.render('firmware/defines.h.j2', variables=variables, types=types,
                                              tables=tables, n_trace=sum(c['size'] for c in calls), **common),
            'firmware/parameters.h': self.render('firmware/parameters.h.j2', weights=weights,
                                                 configs=[n.get_attr('config_cpp') for n in nodes]),
            f'firmware/{project}.cpp': self.render('firmware/myproject.cpp.j2', internal=internal,
                                                   calls=calls, **common),
            f'{project}_bridge.cpp': self.render('myproject_bridge.cpp.j2', **common),
            f'{project}_test.cpp': self.render('myproject_test.cpp.j2', **common),
            'build_lib.sh': self.render('build_lib.sh.j2', cflags=lcfg.get('CFlags', '-O2'), stamp='lib',
                                        **common),
            'build_prj.tcl': self.render('build_prj.tcl.j2', **common),
            'project.tcl': self.render('project.tcl.j2', part=model.config.get_config_value('Part'),
                                       clock_period=model.config.get_config_value('ClockPeriod'), **common),
        }
        for rel, text in files.items():
            (out / rel).write_text(text)
        os.chmod(out / 'build_lib.sh', os.stat(out / 'build_lib.sh').st_mode | stat.S_IXUSR)
        return sorted(files) + [f'firmware/weights/{w}.h' for w in weights] + ['firmware/nnet_utils/lutnet_lut.h']

    @staticmethod
    def write_table(path: Path, var: str, type_name: str, dense: np.ndarray):
        body = ',\n'.join(','.join(map(str, row)) for row in dense.tolist())
        path.write_text(f'#ifndef {var.upper()}_H_\n#define {var.upper()}_H_\n\n'
                        f'// {dense.shape[0]} neurons x {dense.shape[1]} rows (row = table address)\n'
                        f'static const {type_name} {var}[{dense.shape[0]}][{dense.shape[1]}] = {{\n{body}\n}};\n\n'
                        f'#endif\n')

    # ---------------------------------------------------------------- Verilog
    def write_verilog(self, model, out: Path, ir) -> list:
        from lutnet.rtl import write_verilog
        opts = verilog_options(model.config.config)
        info = write_verilog(ir, out / 'rtl', overwrite=bool(model.config.config['LUTNetConfig'].get('Overwrite')),
                             **opts)
        return [f'rtl/{f}' for f in info.files + info.mem_files + [info.testbench]]


def verilog_options(config: dict) -> dict:
    lcfg = config['LUTNetConfig']
    return {'pipeline': lcfg.get('Pipeline', 1), 'table_style': lcfg.get('TableStyle', 'rom'),
            'top': config.get('ProjectName', 'myproject')}
