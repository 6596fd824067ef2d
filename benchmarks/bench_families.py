"""Neuron families on MNIST: training time per epoch, table extraction time, and the LUTs of the zoo.

    .venv/bin/python benchmarks/bench_families.py [--data ../shared/data/mnist] [--batches 100]
        [--families linear,poly,subnet,polylut-add,assemble,table] [--zoo all|NAME,...|none]
        [--yosys NAME,...] [--adder]

1. **Training**: one MNIST model per family (784 2-bit pixels -> 256 -> 100 -> 10, effective fan-in 6:
   plain layers fan-in 6; PolyLUT-Add A=2 x fan-in 3; NeuraLUT-Assemble trees of 2 leaves of fan-in 3;
   DWN ``table``: thermometer 3 bits/pixel -> 1,000 LUT6 nodes -> GroupSum) trained ``--batches``
   steps of 128 samples (Adam, the library's training forward); seconds per epoch = seconds per
   batch x 422 (54,000 training samples after the validation split, batch 128).  Then the table
   extraction time of the trained model (``to_ir``).
2. **Zoo**: every zoo config built (untrained weights, batch-norm statistics from 2,048 training
   samples so that tables are not constant), tables extracted, LUTs from the estimator
   (``build_report(method="estimate")``); ``--yosys`` synthesizes the named whole designs with Yosys
   (``synth_xilinx``, one run per design: name only designs that finish in minutes).
3. ``--adder``: PolyLUT-Add's adder layer in its two IR forms, tables on the concatenated sub-neuron
   codes vs adder (sum-address) neurons (an adder, then a re-quantization table on the sum), estimator
   and Yosys on the layer whole, on the hidden adder layers of HDR-Add2, JSC-M Lite-Add2 and JSC-XL-Add2;
   "export picks" is the form ``to_ir`` chose (``lutnet.transforms.SumAddress``, mode auto).
The machine is shared: times are wall-clock on whatever load there is (printed).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from lutnet._table import format_table  # noqa: E402
from lutnet.builder import build_model  # noqa: E402
from lutnet.config import ModelConfig, from_dict, load_config, zoo_names  # noqa: E402
from lutnet.data import load_dataset  # noqa: E402
from lutnet.export import to_ir  # noqa: E402

EPOCH_BATCHES = 54_000 // 128
SUB = {"kind": "subnet", "width": 16, "depth": 3, "skip": 2}
FAMILIES = {
    "linear": dict(layers=[256, 100, 10], fan_in=6, neuron={"kind": "linear"}),
    "poly": dict(layers=[256, 100, 10], fan_in=6, neuron={"kind": "poly", "degree": 3}),
    "subnet": dict(layers=[256, 100, 10], fan_in=6, neuron=SUB),
    "polylut-add": dict(layers=[{"out_features": w, "add": 2} for w in (256, 100, 10)], fan_in=3,
                        neuron={"kind": "poly", "degree": 3}),
    "assemble": dict(layers=[{"out_features": w, "assemble": [2]} for w in (256, 100, 10)], fan_in=3, neuron=SUB),
}


def lut_model(name: str) -> torch.nn.Module:
    cfg = from_dict(ModelConfig, dict(FAMILIES[name], input_bits=2, hidden_bits=2, output_bits=3, seed=0), name)
    return build_model(cfg, 784)


def dwn_model(X):
    from lutnet.nn.dwn import DWNNet, TableLayer, Thermometer
    enc = Thermometer(784, bits_per_feature=3, input_bits=8, scale=1 / 255)
    enc.fit(X)
    return DWNNet(enc, [TableLayer(enc.out_features, 1000, fan_in=6, mapping="random")], n_classes=10,
                  tau=1 / 0.3, argmax=True)


def time_training(model, X, y, batches: int, lr: float = 0.01) -> float:
    """Seconds per batch of 128 over ``batches`` Adam steps (after 3 warm-up steps)."""
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y.astype(np.int64))
    rng = np.random.default_rng(0)
    model.train()
    t0 = None
    for step in range(batches + 3):
        if step == 3:
            t0 = time.perf_counter()
        idx = torch.from_numpy(rng.integers(0, len(X), 128))
        loss = torch.nn.functional.cross_entropy(model(Xt[idx]), yt[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    return (time.perf_counter() - t0) / batches


def bench_training(families, X, y, batches: int) -> list:
    rows = []
    for fam in families:
        model = dwn_model(X) if fam == "table" else lut_model(fam)
        sec = time_training(model, X, y, batches)
        t0 = time.perf_counter()
        ir = model.to_ir() if fam == "table" else to_ir(model)
        ext = time.perf_counter() - t0
        rows.append({"family": fam, "IR tables": sum(l.out_features for l in ir.layers),
                     "params": sum(p.numel() for p in model.parameters()),
                     "ms/batch": f"{1000 * sec:.1f}", "s/epoch (x422)": f"{sec * EPOCH_BATCHES:.1f}",
                     "extract s": f"{ext:.2f}"})
        print(rows[-1], flush=True)
    return rows


def calibrate(model, X, n: int = 2048):
    """Batch-norm statistics from ``n`` training samples (cumulative average; weights untouched)."""
    with torch.no_grad():
        for layer in model.layers:
            if getattr(layer, "bn", None) is not None:  # DWN table layers have no batch norm
                layer.bn.reset_running_stats()
                layer.bn.momentum = None
        model.train()
        for i in range(0, n, 1024):
            model(torch.from_numpy(X[i:i + 1024]))
        model.eval()


def luts_of(cells: dict) -> int:
    return sum(v for k, v in cells.items() if k.startswith("LUT"))


def bench_zoo(names, data: dict, yosys: set) -> list:
    from lutnet.rtl import build_report
    rows = []
    for name in names:
        cfg = load_config(name)
        ds = data[cfg.data.name]
        X = ds.X_train[:4096].astype(np.float32)
        t0 = time.perf_counter()
        model = build_model(cfg.model, ds.n_features, X)
        calibrate(model, X)
        t1 = time.perf_counter()
        ir = model.to_ir() if hasattr(model, "to_ir") else to_ir(model)  # DWN models export themselves
        ext = time.perf_counter() - t1
        rep = build_report(ir, method="estimate", progress=False)
        row = {"zoo config": name, "data": cfg.data.name + ("" if cfg.data.name != "jets" else " (synthetic)"),
               "IR layers": len(ir.layers), "tables": sum(l.out_features for l in ir.layers),
               "build s": f"{t1 - t0:.1f}", "extract s": f"{ext:.1f}",
               "estimate LUTs": f"{int(rep['total']['luts']):,}", "Yosys LUTs": "-", "Yosys s": "-"}
        if name in yosys:
            from lutnet.harness.postsynth import synthesize_netlist
            with tempfile.TemporaryDirectory() as td:
                t2 = time.perf_counter()
                cells = synthesize_netlist(ir, td)[2]
                row["Yosys LUTs"] = f"{luts_of(cells):,}"
                row["Yosys s"] = f"{time.perf_counter() - t2:.0f}"
        rows.append(row)
        print(row, flush=True)
    return rows


# ---------------------------------------------------------------------- adder: table vs adder neurons
def layer_ir(ir, i):
    """Layer ``i`` alone as a network whose inputs are its sources (to synthesize one layer whole)."""
    from lutnet.ir import NetworkIR, QuantSpec
    L = ir.layers[i]
    prev = ir.layers[i - 1]
    b, sg = int(prev.out_bits.max()), bool(prev.out_signed.any())
    return NetworkIR(QuantSpec(b, sg, np.float32(1), np.float32(0)), prev.out_features, [L],
                     QuantSpec(int(L.out_bits.max()), bool(L.out_signed.any()), np.float32(1), np.float32(0)),
                     {"name": L.name}).validate()


def bench_adder(data, yosys: bool = True) -> list:
    """Each PolyLUT-Add zoo config's hidden adder layer in the two forms lutnet can export: tables on the
    concatenated sub-neuron codes, or adder (sum-address) neurons; estimator, and Yosys on the layer whole."""
    from lutnet.harness.postsynth import synthesize_netlist
    from lutnet.rtl.estimate import estimate_network
    from lutnet.transforms.sum_address import SumAddress, expand_sum_address
    rows = []
    for name in ("polylut-add-mnist-hdr-add2", "polylut-add-jsc-m-lite-add2", "polylut-add-jsc-xl-add2"):
        cfg = load_config(name)
        ds = data[cfg.data.name]
        X = ds.X_train[:4096].astype(np.float32)
        model = build_model(cfg.model, ds.n_features, X)
        calibrate(model, X)
        ir = to_ir(model)  # export chooses the form per neuron (SumAddress, mode auto)
        i = 3 if len(ir.layers) > 3 else 1  # the adder layer of the second tree layer (hidden)
        assert ir.layers[i].kind == "add"
        exported = layer_ir(ir, i)
        forms = {"tables": expand_sum_address(exported),
                 "adders": SumAddress(mode="always").apply(expand_sum_address(exported))[0]}
        L = exported.layers[0]
        row = {"design": name, "adder neurons": L.out_features,
               "in codes": f"{int(L.fan_in.max())} x {int(L.in_bits.max())}-bit", "out bits": int(L.out_bits.max()),
               "export picks": f"adders {int(L.sum_address.sum())}/{L.out_features}"}
        for form, sub in forms.items():
            row[f"{form}: estimate"] = int(sum(e["luts"] for e in estimate_network(sub)[0]))
            if yosys:
                with tempfile.TemporaryDirectory() as td:
                    t0 = time.perf_counter()
                    row[f"{form}: Yosys"] = luts_of(synthesize_netlist(sub, td)[2])
                    row[f"{form}: Yosys s"] = round(time.perf_counter() - t0)
        rows.append(row)
        print(row, flush=True)
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "mnist"))
    ap.add_argument("--batches", type=int, default=100)
    ap.add_argument("--families", default="linear,poly,subnet,polylut-add,assemble,table")
    ap.add_argument("--zoo", default="all", help="all, none, or comma-separated zoo names")
    ap.add_argument("--yosys", default="", help="zoo names to synthesize whole with Yosys")
    ap.add_argument("--adder", action="store_true")
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    load = os.getloadavg()[0]
    mnist = load_dataset("mnist", path=a.data)
    data = {"mnist": mnist, "digits": load_dataset("digits"), "jets": load_dataset("jets-synthetic")}
    X, y = mnist.X_train.astype(np.float32), mnist.y_train
    out = []
    fams = [f for f in a.families.split(",") if f]
    if fams:
        rows = bench_training(fams, X, y, a.batches)
        out.append(f"Training on MNIST, {a.batches} batches of 128, {a.threads} thread(s); epoch = 422 batches\n"
                   + format_table(rows, list(rows[0])))
    if a.zoo != "none":
        names = zoo_names() if a.zoo == "all" else a.zoo.split(",")
        rows = bench_zoo(names, data, set(filter(None, a.yosys.split(","))))
        out.append("Zoo (untrained weights, batch-norm statistics from 2,048 training samples; jets configs use the "
                   "synthetic jet features for those statistics)\n" + format_table(rows, list(rows[0])))
    if a.adder:
        rows = bench_adder(data)
        out.append("PolyLUT-Add adder layer: tables vs adder neurons (estimator; Yosys synth_xilinx on the layer whole)\n"
                   + format_table(rows, list(rows[0])))
    ver = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    print(f"\nbench_families.py at {ver}, load average at start {load:.1f} on {os.cpu_count()} CPUs")
    print("\n\n".join(out))


if __name__ == "__main__":
    main()
