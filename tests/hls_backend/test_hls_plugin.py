"""The LUTNet backend as an hls4ml plugin: registration through the entry point, config, IR layers,
and the errors that name the layer / directory / parameter at fault."""
import os
import subprocess
import sys
from importlib.metadata import entry_points

import hls4ml
import numpy as np
import pytest
import torch

from lutnet import hls_backend
from lutnet.errors import OutputExistsError
from lutnet.nn import LUTLayer, LUTNet
from lutnet.testing import random_network_ir


def test_entry_point_declared_by_lutnet():
    eps = [ep for ep in entry_points(group='hls4ml.backends') if ep.value == 'lutnet.hls_backend:register']
    assert eps, "no hls4ml.backends entry point 'lutnet.hls_backend:register' (pyproject [project.entry-points])"
    assert any(ep.name == 'LUTNet' and ep.dist is not None and ep.dist.name == 'lutnet' for ep in eps)


def test_backend_available_after_plain_import_hls4ml():
    env = {k: v for k, v in os.environ.items() if k != 'HLS4ML_BACKEND_PLUGINS'}
    code = 'import hls4ml; print(hls4ml.backends.get_available_backends())'
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, env=env, cwd='/')
    assert r.returncode == 0, r.stderr
    plugin_warnings = [l for l in (r.stdout + r.stderr).splitlines() if 'WARNING' in l and 'plugin' in l]
    assert not plugin_warnings  # a failing plugin only prints a warning
    assert "'lutnet'" in r.stdout


def test_register_is_idempotent_and_backend_pieces():
    hls_backend.register(hls4ml.backends.register_backend, hls4ml.writer.register_writer)
    backend = hls4ml.backends.get_backend('LUTNet')
    assert type(backend).__name__ == 'LUTNetBackend'
    assert {'lutnet:fold_quantizers', 'lutnet:validate', 'lutnet:apply_templates', 'lutnet:project',
            'lutnet:write'} <= set(backend.get_available_flows())
    from hls4ml.model.layers import layer_map
    assert {'LUTDense', 'LUTQuantizer', 'LUTArgmax', 'LUTDequantize'} <= set(layer_map)
    cfg = hls4ml.utils.config.create_config(backend='LUTNet', output='verilog')
    assert cfg['Backend'] == 'LUTNet' and cfg['LUTNetConfig']['Output'] == 'verilog'
    with pytest.raises(ValueError, match=r"output='vhdl' is not one of \('cpp', 'verilog'\)"):
        hls4ml.utils.config.create_config(backend='LUTNet', output='vhdl')


def test_ir_layers_carry_the_tables(tmp_path):
    ir = random_network_ir(seed=4, n_inputs=8, widths=(5, 3), fan_in=2, bits=2)
    model = hls_backend.convert_ir(ir, output_dir=tmp_path / 'prj')
    luts = [n for n in model.get_layers() if n.class_name == 'LUTDense']
    assert [n.get_attr('lut') for n in luts] == ir.layers  # the same LayerIR objects, nothing re-derived
    assert str(luts[0].get_input_variable().type.precision) == 'uint<2>'
    model.write()
    saved = type(ir).load(tmp_path / 'prj' / 'lutnet_ir.npz')
    np.testing.assert_array_equal(saved.layers[1].tables, ir.layers[1].tables)
    t = (tmp_path / 'prj' / 'firmware' / 'weights' / f't{luts[0].index}.h').read_text()
    first = ','.join(map(str, ir.layers[0].table(0).tolist()))
    assert first in t  # one table row-list per neuron
    assert 'lutnet::lut_layer<' in (tmp_path / 'prj' / 'firmware' / 'myproject.cpp').read_text()


def test_refuses_foreign_nonempty_output_dir(tmp_path):
    ir = random_network_ir(seed=5)
    (tmp_path / 'mine').mkdir()
    (tmp_path / 'mine' / 'thesis.tex').write_text('precious')
    with pytest.raises(OutputExistsError, match=r"mine is not empty and is not an hls4ml/lutnet project"):
        hls_backend.convert_ir(ir, output_dir=tmp_path / 'mine').write()
    assert sorted(p.name for p in (tmp_path / 'mine').iterdir()) == ['thesis.tex']
    hls_backend.convert_ir(ir, output_dir=tmp_path / 'mine', overwrite=True).write()
    assert (tmp_path / 'mine' / 'thesis.tex').read_text() == 'precious'
    hls_backend.convert_ir(ir, output_dir=tmp_path / 'mine').write()  # now a lutnet project: rewrite is fine


def test_unsupported_layers_named_in_one_error(tmp_path):
    """A model mixing ordinary (quantized) dense layers with LUT layers fails with one message
    naming each unsupported module."""
    from brevitas.nn import QuantLinear
    model = torch.nn.Sequential(
        LUTLayer(8, 6, 2, input_quant='unsigned', input_bit_width=2, output_bit_width=2),
        QuantLinear(6, 6, bias=True), torch.nn.ReLU(), torch.nn.Linear(6, 3))
    with pytest.raises(ValueError) as e:
        hls4ml.converters.convert_from_pytorch_model(model, output_dir=str(tmp_path / 'p'), backend='LUTNet',
                                                     hls_config={'InputShape': (8,)})
    msg = str(e.value)
    assert "cannot implement 3 module(s)" in msg
    for name in ["'1' (QuantLinear)", "'2' (ReLU)", "'3' (Linear)"]:
        assert name in msg


def test_lut_model_with_other_backend_is_refused(tmp_path):
    net = LUTNet([LUTLayer(8, 4, 2, input_quant='unsigned', input_bit_width=2, output_bit_width=2)])
    with pytest.raises(Exception, match=r"is a lutnet module: only the LUTNet backend converts it; "
                                        r"use backend='LUTNet' \(got backend='Vivado'\)"):
        hls4ml.converters.convert_from_pytorch_model(net, output_dir=str(tmp_path / 'p'), backend='Vivado',
                                                     hls_config={'InputShape': (8,)})


def test_config_from_pytorch_model_converts_as_is(tmp_path):
    net = LUTNet([LUTLayer(8, 4, 2, input_quant='unsigned', input_bit_width=2, output_bit_width=2),
                  LUTLayer(4, 3, 2, output_bit_width=2)]).eval()
    for granularity in ('model', 'name'):
        cfg = hls4ml.utils.config_from_pytorch_model(net, (8,), granularity=granularity, backend='LUTNet')
        model = hls4ml.converters.convert_from_pytorch_model(net, output_dir=str(tmp_path / granularity),
                                                             backend='LUTNet', hls_config=cfg)
        assert [n.class_name for n in model.get_layers()] == ['Input', 'LUTDense', 'LUTDense']


def test_ordinary_models_with_stock_backends_unaffected(tmp_path):
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU())
    hmodel = hls4ml.converters.convert_from_pytorch_model(model, output_dir=str(tmp_path / 'v'), backend='Vivado',
                                                          hls_config={'InputShape': (4,)})
    assert [n.class_name for n in hmodel.get_layers()] == ['Input', 'Dense', 'Activation']
