"""Train a DWN-style model on MNIST (thermometer encoder, table neurons with learnable mapping,
GroupSum head, argmax), export the IR, check it against the model on all 10,000 test images, emit
Verilog and simulate it with Verilator on all 10,000 test images, and print the LUT estimate.

    .venv/bin/python benchmarks/train_dwn_mnist.py --epochs 8 --nodes 1000 --out runs/dwn-mnist
    .venv/bin/python benchmarks/train_dwn_mnist.py --nodes 2000,200 --fit uniform --bits-per-feature 1 \\
        --train-limit 20000 --no-test --out runs/explore/a      # exploration: validation only

    .venv/bin/python benchmarks/train_dwn_mnist.py --table runs/explore18      # the runs' validation table

Design exploration looks at validation accuracy only (``--no-test``: the test images are not even
evaluated); the validation split is carved from the training split by ``fit_dwn``.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch


def parse_args(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="../shared/data/mnist")
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--nodes", default="1000", help="table neurons per layer, comma list (the last feeds the head)")
    ap.add_argument("--fan-in", default="6",
                    help="inputs per table neuron: one value, or a comma list per layer (e.g. 6,6,1: a last layer "
                         "of one-input tables, wires or inverters in hardware, picks the head's bits)")
    ap.add_argument("--candidates", type=int, default=16, help="learnable mapping: candidate inputs per slot (0: all)")
    ap.add_argument("--learn-layers", type=int, default=1, help="learnable mapping in the first N layers")
    ap.add_argument("--wiring", default="random", choices=["random", "balanced"], help="the other layers' wiring")
    ap.add_argument("--mapping-tau", type=float, default=1.0, help="learnable mapping: softmax temperature")
    ap.add_argument("--bits-per-feature", type=int, default=3)
    ap.add_argument("--fit", default="quantile", choices=["quantile", "uniform"])
    ap.add_argument("--threshold-bits", type=int, default=0,
                    help="quantile thresholds rounded to multiples of 2**(8-k) (cheap comparators; 0: exact)")
    ap.add_argument("--tau", type=float, default=1 / 0.3)
    ap.add_argument("--lr", type=float, default=1e-2)
    ap.add_argument("--mapping-lr", type=float, default=None)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--train-limit", type=int, default=0, help="first N training images (0: all 60,000)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default="runs/dwn-mnist")
    ap.add_argument("--no-test", action="store_true", help="exploration: do not evaluate the test images")
    ap.add_argument("--simulate", action="store_true")
    ap.add_argument("--signed-mapping-grad", action="store_true")
    ap.add_argument("--clamp-tables", action="store_true")
    ap.add_argument("--shift", type=int, default=0, help="augment: random image shifts up to N pixels")
    ap.add_argument("--plain-last", type=int, default=0,
                    help="augment: the last N epochs train on the original images (train.augment.plain_last)")
    ap.add_argument("--elastic", default="",
                    help="prototype: 'alpha,sigma': elastic distortions of the training images after the shifts "
                         "(Simard et al. 2003: a random displacement field smoothed by a Gaussian of sigma pixels, "
                         "scaled by alpha; bilinear)")
    ap.add_argument("--rotate", type=float, default=0.0,
                    help="augment: random rotations of the training images up to +-N degrees after the shifts "
                         "(train.augment.rotate)")
    ap.add_argument("--bitplanes", type=int, default=0,
                    help="prototype: feed the top K bits of each 8-bit pixel as K one-bit features")
    ap.add_argument("--skip", action="store_true",
                    help="prototype: layer 1 reads the encoder bits as well as layer 0 (as identity tables: wires)")
    ap.add_argument("--efd-beta", type=float, default=None,
                    help="EFD: weight beta**d of the table entries at Hamming distance d (default: DWN's 1/3)")
    ap.add_argument("--compressor", type=int, default=0,
                    help="prototype: a learned compressor head: each class's last-layer outputs in groups of 6, each "
                         "group read by N tables (the bit-planes of a learned 6-bit -> N-bit value: head weights 1, 2, "
                         "4, ..) instead of a popcount of its bits")
    ap.add_argument("--compressor-init", default="random", choices=["random", "popcount"],
                    help="--compressor: the tables start random or as the popcount's bit-planes")
    ap.add_argument("--tiebreak", type=int, default=0,
                    help="GroupSum head.tiebreak: the last N outputs of each class count half (a finer score)")
    ap.add_argument("--distill", default="",
                    help="'T,alpha': train.distill (lutnet.distill) at temperature T, loss (1-alpha) CE + alpha T^2 KL")
    ap.add_argument("--teacher", default="cnn", choices=["cnn", "mlp"], help="train.distill.teacher")
    ap.add_argument("--teacher-epochs", type=int, default=6, help="train.distill.epochs")
    return ap.parse_args(argv)


def _distill(a, X_train, y_train):
    """``--distill T,alpha``: lutnet.distill's teacher (``train.distill``), trained on the training split
    minus the validation split with the same shifts, and its loss."""
    from lutnet.config import AugmentConfig, DistillConfig, TrainConfig
    from lutnet.distill import distill_loss, train_teacher
    T, alpha = (float(v) for v in a.distill.split(","))
    cfg = TrainConfig(epochs=a.epochs, batch_size=a.batch_size, lr=a.lr, seed=a.seed,
                      augment=AugmentConfig(a.shift, [28, 28]) if a.shift else None,
                      distill=DistillConfig(teacher=a.teacher, epochs=a.teacher_epochs, temperature=T, alpha=alpha,
                                            image_shape=[28, 28]))
    return distill_loss(train_teacher(X_train, y_train, cfg, log=lambda s: print(s, flush=True)), T, alpha)


def build(a, n_features: int):
    from lutnet.nn.dwn import DWNNet, TableLayer, Thermometer
    enc = Thermometer(n_features, bits_per_feature=a.bits_per_feature, fit=a.fit, input_bits=8, scale=1 / 255,
                      threshold_bits=a.threshold_bits or None)
    nodes = [int(n) for n in str(a.nodes).split(",")]
    fan_ins = [int(f) for f in str(a.fan_in).split(",")]
    if len(fan_ins) == 1:
        fan_ins *= len(nodes)
    if len(fan_ins) != len(nodes):
        raise SystemExit(f"--fan-in {a.fan_in}: give one value or one per layer ({len(nodes)} layers in --nodes)")
    layers, src = [], enc.out_features
    for i, n in enumerate(nodes):
        layers.append(TableLayer(src, n, fan_in=fan_ins[i], mapping="learnable" if i < a.learn_layers else a.wiring,
                                 seed=a.seed * 100 + i, name=f"layer{i}", mapping_candidates=a.candidates or None,
                                 mapping_tau=a.mapping_tau, clamp=a.clamp_tables,
                                 mapping_grad="signed" if a.signed_mapping_grad else "binary",
                                 beta=getattr(a, "efd_beta", None)))
        src = n + (enc.out_features if a.skip and i == 0 else 0)
    if getattr(a, "compressor", 0):
        if a.skip or getattr(a, "tiebreak", 0):
            raise SystemExit("--compressor builds its own head: it does not combine with --skip or --tiebreak")
        return _compressor_net(a, enc, layers, src)
    return (_skip_net() if a.skip else DWNNet)(enc, layers, n_classes=10, tau=a.tau, argmax=True,
                                               tiebreak=getattr(a, "tiebreak", 0))


def _compressor_net(a, enc, layers, src, n_classes=10, group=6):
    """``--compressor N``: class c's ``src / n_classes`` last-layer outputs in groups of ``group``; each group
    is read by N tables (one fixed wiring, learned tables) whose codes the head weighs 1, 2, 4, ..: a learned
    ``group``-bit -> N-bit value per group, summed per class (the popcount head is the case 'table = bit-plane
    of the group's popcount', ``--compressor-init popcount``)."""
    from lutnet.nn.dwn import DWNNet, TableLayer
    per = src // n_classes
    if src % n_classes or per % group:
        raise SystemExit(f"--compressor: the last layer's {src} outputs must be {n_classes} classes x groups of {group}")
    idx, groups, w = [], [], []
    for c in range(n_classes):
        for k in range(c * per, (c + 1) * per, group):
            for j in range(a.compressor):
                idx.append(np.arange(k, k + group))
                groups.append(c)
                w.append(1 << j)
    comp = TableLayer(src, len(idx), fan_in=group, mapping=np.array(idx), seed=a.seed * 100 + len(layers),
                      name=f"layer{len(layers)}", clamp=a.clamp_tables)
    if a.compressor_init == "popcount":
        pc = np.array([bin(r).count("1") for r in range(1 << group)])
        bits = np.stack([(pc >> j) & 1 for j in range(a.compressor)] * (len(idx) // a.compressor))
        with torch.no_grad():  # the address's bit order does not matter: a popcount is symmetric
            comp.table.copy_(torch.from_numpy(bits * 1.0 - 0.5))
    net = DWNNet(enc, layers + [comp], n_classes=n_classes, tau=a.tau, argmax=True, groups=np.array(groups))
    h, wt = net.head, np.array(w)
    h.weights = wt
    h.onehot.mul_(torch.from_numpy(wt.astype(np.float32))[:, None])
    h.logit_scale = h.tau  # a score step of 1 moves a logit by 1 / tau, as the popcount head
    return net


def _skip_net():
    from lutnet.ir import LayerIR, NetworkIR, QuantSpec
    from lutnet.nn.dwn import DWNNet

    class SkipNet(DWNNet):
        """Prototype: layer 1 reads [layer 0's bits, the encoder's bits]; in the IR the encoder bits pass
        through layer 0 as identity tables (a wire and a register in hardware)."""

        def __init__(self, enc, layers, **kw):
            n1 = layers[1].in_features
            layers[1].in_features = layers[0].out_features
            super().__init__(enc, layers, **kw)
            layers[1].in_features = n1

        def forward_bits(self, x):
            e = self.encoder(x)
            h = torch.cat([self.layers[0](e), e], 1)
            for layer in self.layers[1:]:
                h = layer(h)
            return h

        def to_ir(self, metadata=None):
            self.eval()
            layers = [layer.to_ir() for layer in self.layers]
            l0, n_e, f = layers[0], self.encoder.out_features, self.layers[0].fan_in
            conn = np.stack([(np.arange(n_e) + k) % n_e for k in range(f)], 1)  # identity: input 0 is bit i
            ident = (np.arange(1 << f) & 1)[None, :].repeat(n_e, 0)
            t0 = l0.tables.reshape(l0.out_features, -1)
            layers[0] = LayerIR.from_dense(l0.name, np.concatenate([l0.indices, conn]), 1, False, 1, False,
                                           np.concatenate([t0, ident]), kind="table", attrs=l0.attrs)
            head = self.head.to_ir()
            b, sg = head.score_encoding(layers[-1].out_bits, layers[-1].out_signed)
            out_q = QuantSpec(b, sg, np.float32(1.0 / self.head.tau), np.float32(0))
            return NetworkIR(self.encoder.quant, self.in_features, layers, out_q, dict(metadata or {}),
                             encoder=self.encoder.to_ir(), head=head, argmax=self.argmax).validate()
    return SkipNet


def _augment(a):
    """The training-batch augmentation: lutnet's BatchAugment (``--shift``, ``--rotate``: ``train.augment``),
    then the prototype ``--elastic`` distortions (bilinear, zero padding), from the same seeded generator."""
    from lutnet.core.augment import BatchAugment
    base = BatchAugment(a.shift, (28, 28), a.plain_last, a.rotate) if a.shift or a.rotate else None
    if not a.elastic:
        return base
    from scipy.ndimage import gaussian_filter, map_coordinates
    alpha, sigma = (float(v) for v in a.elastic.split(","))
    h = w = 28

    class Elastic:
        plain_last = a.plain_last

        def active(self, epoch, epochs):
            return epoch < epochs - self.plain_last

        def __call__(self, X, rng):
            x = base(X, rng) if base is not None else np.asarray(X, np.float32)
            b = x.shape[0]
            d = rng.uniform(-1, 1, (2, b, h, w)).astype(np.float32)
            d = gaussian_filter(d, (0, 0, sigma, sigma), mode="constant") * alpha
            yy, xx = np.meshgrid(np.arange(h, dtype=np.float32), np.arange(w, dtype=np.float32), indexing="ij")
            bi = np.broadcast_to(np.arange(b, dtype=np.float32)[:, None, None], d[0].shape)
            out = map_coordinates(x.reshape(b, h, w), [bi, yy + d[0], xx + d[1]], order=1, mode="grid-constant",
                                  cval=0.0)
            return out.reshape(b, -1).astype(np.float32)
    return Elastic()


def _bitplanes(X, k):
    """The top ``k`` bits of each 8-bit pixel as ``k`` one-bit features (plane by plane)."""
    code = np.rint(X * 255).astype(np.int64)
    return np.concatenate([((code >> (7 - j)) & 1).astype(np.float32) for j in range(k)], axis=1)


def _distill_label(a) -> str:
    if not a.get("distill"):
        return "-"
    T, alpha = a["distill"].split(",")
    return f"{a.get('teacher', 'cnn')} T={T} a={alpha}"


def table(root) -> str:
    """One row per ``summary.json`` under ``root`` (exploration runs: validation accuracy only)."""
    rows = []
    for f in sorted(Path(root).glob("*/summary.json")):
        s = json.loads(f.read_text())
        a = s["args"]
        cand = "fixed" if not a.get("learn_layers", 1) else ("all" if not a["candidates"] else str(a["candidates"]))
        grid = f" {a['threshold_bits']}-bit grid" if a.get("threshold_bits") else ""
        enc = f"z={a['bits_per_feature']} {a['fit']}{grid}"
        if a.get("bitplanes"):
            enc = f"top {a['bitplanes']} bits (wires)"
        fi = str(a.get("fan_in", 6))
        comp = ""
        if a.get("compressor"):
            comp = f" c{a['compressor']}" + ("p" if a.get("compressor_init") == "popcount" else "")
        nodes = (a["nodes"] + (f" f{fi}" if fi != "6" else "") + comp
                 + (f" beta {a['efd_beta']:.3g}" if a.get("efd_beta") is not None else "")
                 + (" +skip" if a.get("skip") else "") + (f" tb{a['tiebreak']}" if a.get("tiebreak") else ""))
        rows.append([f.parent.name, nodes, enc, cand, str(a.get("learn_layers", 1)),
                     "signed" if a.get("signed_mapping_grad") else "binary", "yes" if a.get("clamp_tables") else "no",
                     str(a.get("shift", 0)) + (f" ({a['plain_last']} plain)" if a.get("plain_last") else "")
                     + (f" el {a['elastic']}" if a.get("elastic") else "")
                     + (f" rot {a['rotate']:g}" if a.get("rotate") else ""),
                     f"{a['tau']:.3g}", f"{a.get('mapping_tau', 1.0):.3g}", f"{a['lr']:.3g}",
                     str(a.get("batch_size", 128)), f"{a['epochs']}", str(a["seed"]), _distill_label(a),
                     f"{100 * s['val_acc']:.2f} %", f"{s['best_epoch']}", f"{s['seconds_per_epoch']:.0f}",
                     f"{s['luts_estimate']:,}", f"{s['luts_yosys']:,}" if s.get("luts_yosys") else "-"])
    head = ["run", "tables", "encoder", "layer-0 mapping", "learnable layers", "mapping grad", "clamp", "shift", "tau",
            "map tau", "lr", "batch", "epochs", "seed", "distill", "val acc", "best ep", "s/epoch", "est. LUTs",
            "Yosys LUTs"]
    w = [max(len(r[i]) for r in rows + [head]) for i in range(len(head))]
    line = lambda r: "  ".join(c.rjust(w[i]) if i else c.ljust(w[i]) for i, c in enumerate(r))
    return "\n".join([line(head), line(["-" * x for x in w])] + [line(r) for r in rows])


def main(argv=None):
    if argv is None and len(sys.argv) == 3 and sys.argv[1] == "--table":
        print(table(sys.argv[2]))
        return
    a = parse_args(argv)
    torch.set_num_threads(a.threads)
    from lutnet.core.table_neuron import PruneUnused
    from lutnet.data import load_dataset
    from lutnet.nn.dwn import accuracy, fit_dwn
    ds = load_dataset("mnist", path=a.data)
    X_train = ds.X_train.reshape(len(ds.X_train), -1).astype(np.float32)
    y_train = ds.y_train
    if a.train_limit:
        X_train, y_train = X_train[:a.train_limit], y_train[:a.train_limit]
    X_test = ds.X_test.reshape(len(ds.X_test), -1).astype(np.float32)
    if a.bitplanes:
        X_train, X_test = _bitplanes(X_train, a.bitplanes), _bitplanes(X_test, a.bitplanes)
    print("data", X_train.shape, vars(a), flush=True)
    model = build(a, X_train.shape[1])
    loss_fn = _distill(a, X_train, y_train) if a.distill else None
    t0 = time.perf_counter()
    res = fit_dwn(model, X_train, y_train, epochs=a.epochs, batch_size=a.batch_size, lr=a.lr, seed=a.seed,
                  mapping_lr=a.mapping_lr, log=lambda s: print(s, flush=True), augment=_augment(a),
                  loss_fn=loss_fn)
    train_s = time.perf_counter() - t0
    secs = [h["seconds"] for h in res.history]
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    torch.save({"state": model.state_dict(), "args": vars(a)}, out / "dwn.pt")
    ir = PruneUnused()(model.to_ir(metadata={"model": "dwn-mnist", "epochs": a.epochs}))
    ir.save(out / "dwn.lutir.npz", overwrite=True)
    from lutnet.rtl import build_report
    rep = build_report(ir, method="estimate", progress=False)
    rows = {r["layer"]: r["luts"] for r in rep["layers"]}
    summary = {"args": vars(a), "train_seconds": train_s, "seconds_per_epoch": float(np.mean(secs)),
               "best_epoch": res.best_epoch + 1, "val_acc": res.best_val_acc,
               "history": [h["val_acc"] for h in res.history], "luts_estimate": rep["total"]["luts"],
               "luts_estimate_rows": rows, "encoder_bits_used": int(ir.encoder.comparators(ir.input_quant).sum())}
    print(f"trained {a.epochs} epochs in {train_s:.0f} s ({np.mean(secs):.1f} s/epoch); best epoch "
          f"{res.best_epoch + 1}, validation {res.best_val_acc:.4f}; estimate {summary['luts_estimate']} LUTs {rows}",
          flush=True)
    if not a.no_test:
        test_acc = accuracy(model, X_test, ds.y_test)
        codes = ir.quantize_input(X_test)
        ir_out = ir.evaluate(codes)
        mo = model.output_codes(X_test).numpy()
        summary.update(test_acc_model=test_acc, test_acc_ir=float((ir_out[:, 0] == ds.y_test).mean()),
                       ir_mismatches=int((ir_out != mo).sum()))
        print(f"model vs IR on {len(X_test)} test images: {summary['ir_mismatches']} mismatches; test accuracy "
              f"{test_acc:.4f}", flush=True)
        if a.simulate:
            from lutnet.rtl import simulate
            t0 = time.perf_counter()
            rtl = np.asarray(simulate(ir, codes, simulator="verilator", work_dir=str((out / "sim").resolve())))
            summary["rtl_mismatches"] = int((rtl != ir_out).sum())
            print(f"Verilator on {len(codes)} test images: {summary['rtl_mismatches']} mismatches vs IR "
                  f"({time.perf_counter() - t0:.0f} s)", flush=True)
    (out / "summary.json").write_text(json.dumps(summary, indent=1))
    print(json.dumps({k: v for k, v in summary.items() if k != "args"}), flush=True)


if __name__ == "__main__":
    main()
