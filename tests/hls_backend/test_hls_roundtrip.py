"""hls4ml habits on LUTNet projects: save/load (.fml), link_existing_project, trace, hls4ml's build
keywords and CLI flags, config feedback, convert_ir from a file, and another backend's project."""
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import hls4ml
import numpy as np
import pytest
import torch

from lutnet import hls_backend
from lutnet.errors import ConfigError, OutputExistsError
from lutnet.export import to_ir
from lutnet.hls_backend.config_check import LUTNetConfigWarning
from lutnet.nn import LUTLayer, LUTNet
from lutnet.testing import random_network_ir
from lutnet.vectors import random_input_codes

CFLAGS = '-O1'
HLS4ML = str(Path(sys.executable).with_name('hls4ml'))
VENDOR = [t for t in ('vitis_hls', 'vivado_hls', 'vivado') if shutil.which(t)]


def net(n_in=8):
    torch.manual_seed(0)
    model = LUTNet([LUTLayer(n_in, 6, 3, input_quant='signed', input_bit_width=2, output_bit_width=2, seed=1),
                    LUTLayer(6, 4, 2, output_quant='signed', output_bit_width=3, seed=2)])
    g = torch.Generator().manual_seed(3)
    with torch.no_grad():
        for layer in model.layers:
            layer.bn.weight.copy_(torch.rand(layer.bn.weight.shape, generator=g) * 4 + 1)
            layer.bn.bias.copy_(torch.rand(layer.bn.bias.shape, generator=g))
    return model.eval()


def convert(model, out, **kw):
    config = hls4ml.utils.config_from_pytorch_model(model, (model.in_features,), backend='LUTNet')
    return hls4ml.converters.convert_from_pytorch_model(model, output_dir=str(out), backend='LUTNet',
                                                        hls_config=config, cflags=CFLAGS, **kw)


def features(n, n_in=8, seed=0):
    return (np.random.default_rng(seed).random((n, n_in), dtype=np.float32) * 2.4 - 1.2)


def run_cli(*args, cwd):
    env = {k: v for k, v in os.environ.items() if k != 'HLS4ML_BACKEND_PLUGINS'}
    return subprocess.run([HLS4ML, *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=600)


# ------------------------------------------------------------------------------------ round trips
def test_save_and_load_saved_model(tmp_path):
    model = net()
    hmodel = convert(model, tmp_path / 'prj')
    hmodel.compile()
    x = features(300)
    want = hmodel.predict(x)
    hmodel.save(str(tmp_path / 'm.fml'))  # was: TypeError: Object of type QuantSpec is not JSON serializable
    loaded = hls4ml.converters.load_saved_model(str(tmp_path / 'm.fml'))
    assert [n.class_name for n in loaded.get_layers()] == ['Input', 'LUTDense', 'LUTDense']
    a, b = [n.get_attr('lut') for n in hmodel.get_layers()][1:], [n.get_attr('lut') for n in loaded.get_layers()][1:]
    for la, lb in zip(a, b):
        np.testing.assert_array_equal(la.tables, lb.tables)
        np.testing.assert_array_equal(la.indices, lb.indices)
    loaded.compile()
    np.testing.assert_array_equal(loaded.predict(x), want)
    with torch.no_grad():
        np.testing.assert_array_equal(want, model(torch.from_numpy(x)).numpy())


@pytest.mark.parametrize('output', ['cpp', pytest.param('verilog', marks=pytest.mark.slow)])
def test_link_existing_project_compiles_and_predicts(tmp_path, output):
    ir = random_network_ir(seed=3, n_inputs=7, widths=(6, 4), fan_in=3, bits=2)
    model = hls_backend.convert_ir(ir, output_dir=tmp_path / 'prj', output=output, argmax=True)
    model.write()
    os.chdir(tmp_path)  # the config names OutputDir as given (relative paths resolve from here, as in hls4ml)
    linked = hls4ml.converters.link_existing_project(str(tmp_path / 'prj'))
    linked.compile()  # was: The method "get_layers" should not be invoked on FilesystemModelGraph
    x = np.random.default_rng(1).random((200, 7), dtype=np.float32)
    np.testing.assert_array_equal(linked.predict(x), ir.predict(x))


def test_trace_cpp_gives_every_layer_codes_and_values(tmp_path):
    model = net()
    hmodel = convert(model, tmp_path / 'prj')
    x = features(400, seed=2)
    y, trace = hmodel.trace(x)  # was: undefined symbol: myproject_float
    np.testing.assert_array_equal(y, hmodel.predict(x))
    assert list(trace) == list(trace.codes) == ['layers_0', 'layers_1']
    ir = to_ir(model)
    for got, want in zip(trace.codes.values(), ir.evaluate(ir.quantize_input(x), return_all=True)):
        assert got.dtype == np.int64
        np.testing.assert_array_equal(got, want)
    with torch.no_grad():
        qt = torch.from_numpy(x)
        for layer, name in zip(model.layers, trace):
            qt = layer(qt)
            np.testing.assert_array_equal(trace[name], qt.value.numpy())  # the PyTorch layer's outputs
    one_y, one = hmodel.trace(x[0])  # one 1-D sample, as predict
    np.testing.assert_array_equal(one.codes['layers_0'], trace.codes['layers_0'][0])
    np.testing.assert_array_equal(one_y, y[0])


def test_trace_verilog_simulates_each_layer(tmp_path):
    if not shutil.which('iverilog'):
        pytest.skip('Icarus Verilog is not installed (make tools)')
    ir = random_network_ir(seed=5, n_inputs=6, widths=(5, 4, 3), fan_in=2, bits=2)
    model = hls_backend.convert_ir(ir, output_dir=tmp_path / 'prj', output='verilog', simulator='icarus')
    model.compile()
    codes = random_input_codes(ir, 300, seed=4)
    y, trace = model.trace(codes, codes=True)
    np.testing.assert_array_equal(y, ir.evaluate(codes))
    assert list(trace.codes) == ['lut0', 'lut1', 'lut2'] and list(trace) == ['lut2']  # the IR records no hidden scales
    for got, want in zip(trace.codes.values(), ir.evaluate(codes, return_all=True)):
        np.testing.assert_array_equal(got, want)


# ------------------------------------------------------------------------------------ build
@pytest.mark.skipif(bool(VENDOR), reason=f"vendor tools on PATH ({VENDOR})")
def test_build_accepts_hls4ml_keywords(tmp_path, capsys):
    model = hls_backend.convert_ir(random_network_ir(seed=6, n_inputs=6, widths=(4, 2), fan_in=3, bits=2),
                                   output_dir=tmp_path / 'prj', argmax=True)
    model.write()
    r = model.build(csim=True, synth=True, cosim=True, validation=True, export=True, vsynth=True, reset=True,
                    fifo_opt=True, log_to_stdout=True, method='estimate')  # was: TypeError on vsynth
    assert r['steps']['csim'] == {'ran': 'g++ testbench', 'vectors': 64, 'mismatches': 0}
    assert r['steps']['synth'] == 'estimate' and r['report']['total']['luts'] > 0
    assert r['skipped'] == ['cosim', 'export']
    out = capsys.readouterr().out
    assert "open flow, method 'estimate'" in out and 'skipped (need Vitis/Vivado HLS): cosim, export' in out
    r = model.build(synth=False, method='estimate')
    assert 'report' not in r and r['steps'] == {'csim': {'ran': 'g++ testbench', 'vectors': 64, 'mismatches': 0}}
    with pytest.raises(ConfigError, match=r"build\(\): unknown keyword\(s\) bitstream; the LUTNet backend takes csim, "):
        model.build(bitstream=True)
    from lutnet.hls_backend.build import KEYWORDS
    assert {'csim', 'synth', 'cosim', 'validation', 'export', 'vsynth', 'reset', 'fifo_opt'} <= set(KEYWORDS)


@pytest.mark.skipif(bool(VENDOR), reason=f"vendor tools on PATH ({VENDOR})")
def test_hls4ml_build_stock_flags_and_one_line_errors(tmp_path):
    hls_backend.convert_ir(random_network_ir(seed=7, n_inputs=6, widths=(4, 2), fan_in=3, bits=2),
                           output_dir=tmp_path / 'prj').write()
    r = run_cli('report', '-p', 'prj', cwd=tmp_path)  # before any build: one line, exit 2 (lutnet's CLI grammar)
    assert r.returncode == 2 and 'Traceback' not in r.stderr
    assert r.stderr == ("hls4ml report: error: prj/build_report.json not found: run `hls4ml build -p prj` "
                        "(or hls_model.build()) first\n")
    r = run_cli('build', '-p', 'prj', '--vendor', cwd=tmp_path)
    assert r.returncode == 2 and 'Traceback' not in r.stderr and "vendor=" not in r.stderr
    assert r.stderr == ("hls4ml build: error: vendor flow: vitis_hls or vivado_hls is not on PATH; source the Xilinx "
                        "settings script (settings64.sh) so that it is, drop --vendor (or pass --open) to "
                        "run the open flow\n")
    r = run_cli('build', '-p', 'prj', '-c', '-s', '-m', 'estimate', cwd=tmp_path)  # was: unrecognized arguments: -s
    assert r.returncode == 0, r.stdout + r.stderr
    assert "open flow, method 'estimate'" in r.stdout and 'steps: csim, synthesis' in r.stdout
    r = run_cli('build', '-p', 'prj', '-c', cwd=tmp_path)  # C simulation only
    assert r.returncode == 0 and 'steps: csim\n' in r.stdout, r.stdout


def test_model_build_prints_method_and_how_to_get_the_estimate(tmp_path, capsys, monkeypatch):
    if not shutil.which('yosys') or VENDOR:
        pytest.skip('needs yosys and no vendor tools')
    monkeypatch.setenv('LUTNET_CACHE_DIR', str(tmp_path / 'cache'))  # a cold cache: the plan states a time
    model = hls_backend.convert_ir(random_network_ir(seed=8, n_inputs=4, widths=(2,), fan_in=2, bits=1),
                                   output_dir=tmp_path / 'prj')
    model.write()
    model.build(csim=False)
    text = capsys.readouterr()
    text = text.out + text.err
    assert "open flow, method 'yosys'" in text
    assert "distinct tables to synthesize" in text and "expected about" in text
    assert "for a result in milliseconds use method='estimate'" in text
    model.build(csim=False)  # the same design again: the plan says it is cached
    text = capsys.readouterr()
    text = text.out + text.err
    assert "distinct tables to synthesize" in text and "cached" in text and "expected about" not in text


# ------------------------------------------------------------------------------------ config
def test_config_edits_that_do_not_apply_give_one_warning(tmp_path):
    model = net()
    config = hls4ml.utils.config_from_pytorch_model(model, (8,), granularity='name', backend='LUTNet')
    with warnings.catch_warnings():
        warnings.simplefilter('error', LUTNetConfigWarning)  # the defaults: no warning
        hls4ml.converters.convert_from_pytorch_model(model, output_dir=str(tmp_path / 'a'), backend='LUTNet',
                                                     hls_config=config)
    config['Model']['Precision'] = 'ap_fixed<8,3>'
    config['Model']['ReuseFactor'] = 4
    config['Model']['Strategy'] = 'Resource'
    config['LayerName']['layers_0']['Precision'] = {'result': 'ap_int<4>'}
    with pytest.warns(LUTNetConfigWarning) as rec:
        hls4ml.converters.convert_from_pytorch_model(model, output_dir=str(tmp_path / 'b'), backend='LUTNet',
                                                     hls_config=config, io_type='io_stream')
    ours = [w for w in rec if issubclass(w.category, LUTNetConfigWarning)]
    assert len(ours) == 1
    msg = str(ours[0].message)
    for part in ("Precision (Model: ap_fixed<8,3>)", "ReuseFactor (Model: 4)", "Strategy (Model: Resource)",
                 "Precision (LayerName.layers_0: {'result': 'ap_int<4>'})", "io_type='io_stream'",
                 "come from the model's quantizers"):
        assert part in msg, msg


def test_unknown_keyword_and_misplaced_lutnetconfig_are_errors(tmp_path):
    model = net()
    config = hls4ml.utils.config_from_pytorch_model(model, (8,), backend='LUTNet')
    with pytest.raises(ConfigError, match=r"LUTNet backend: unknown keyword outptu='verilog' \(did you mean 'output'\?\)"):
        hls4ml.converters.convert_from_pytorch_model(model, output_dir=str(tmp_path / 'a'), backend='LUTNet',
                                                     hls_config=config, outptu='verilog')
    config['LUTNetConfig'] = {'Output': 'verilog'}
    with pytest.raises(ConfigError, match=r"LUTNet backend: LUTNetConfig inside hls_config is not read .* pass its "
                                          r"entries as keywords of the conversion call"):
        hls4ml.converters.convert_from_pytorch_model(model, output_dir=str(tmp_path / 'b'), backend='LUTNet',
                                                     hls_config=config)
    assert not (tmp_path / 'a').exists() and not (tmp_path / 'b').exists()


# ------------------------------------------------------------------------------------ files
def test_convert_ir_takes_a_file_path(tmp_path):
    ir = random_network_ir(seed=9, n_inputs=6, widths=(4, 3), fan_in=2, bits=2)
    path = ir.save(tmp_path / 'my.lutir.npz')
    model = hls_backend.convert_ir(str(path), output_dir=tmp_path / 'prj', cflags=CFLAGS)  # was: AttributeError
    model.compile()
    codes = random_input_codes(ir, 100, seed=2)
    np.testing.assert_array_equal(model.predict(codes, codes=True), ir.evaluate(codes))


def test_stock_vivado_project_is_not_overwritten_unless_forced(tmp_path):
    stock = hls4ml.converters.convert_from_pytorch_model(torch.nn.Sequential(torch.nn.Linear(4, 3)),
                                                         output_dir=str(tmp_path / 'prj'), backend='Vivado',
                                                         hls_config={'InputShape': (4,)})
    stock.write()
    cpp = (tmp_path / 'prj' / 'firmware' / 'myproject.cpp').read_text()
    ir = random_network_ir(seed=10, n_inputs=6, widths=(3,), fan_in=2, bits=2)
    with pytest.raises(OutputExistsError, match=r"prj holds an hls4ml project of the Vivado backend \(hls4ml_config\.yml "
                                                r"names Backend: Vivado\); writing the LUTNet project there would "
                                                r"overwrite its files"):
        hls_backend.convert_ir(ir, output_dir=tmp_path / 'prj').write()
    assert (tmp_path / 'prj' / 'firmware' / 'myproject.cpp').read_text() == cpp
    hls_backend.convert_ir(ir, output_dir=tmp_path / 'prj', overwrite=True).write()
    assert 'lutnet::lut_layer<' in (tmp_path / 'prj' / 'firmware' / 'myproject.cpp').read_text()
