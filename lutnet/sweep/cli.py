"""``lutnet sweep SPEC`` (registered by :mod:`lutnet.cli`)."""
from __future__ import annotations


def cmd_sweep(args):
    from .._table import format_table
    from . import load_spec, sweep
    spec = load_spec(args.spec)  # every spec error before Ray starts
    if args.samples is not None:
        spec.num_samples = args.samples
    print(f"sweep {spec.name}: {spec.n_trials()} trials, search {spec.search}, scheduler {spec.scheduler}, "
          f"objectives {', '.join(f'{k} ({v})' for k, v in spec.objectives.items())}; "
          f"Ray {'at ' + args.address if args.address else 'embedded (local)'}", flush=True)
    res = sweep(spec, args.output, address=args.address, resume=args.resume, force=args.force,
                verbose=0 if args.quiet else 1)
    print(format_table(table_rows(res["trials"], spec)))
    e = res["engine"]
    print(f"\n{len(res['trials'])} trials ({sum(r['status'] == 'ok' for r in res['trials'])} finished, "
          f"{sum(r['status'] == 'stopped' for r in res['trials'])} stopped early, "
          f"{sum(r['status'] == 'error' for r in res['trials'])} failed) in {res['seconds']} s; "
          f"Ray {e['mode']}, {e['nodes']} node(s), {e['cpus']} CPUs, start-up {e['start_seconds']} s")
    print("Pareto front (validation accuracy vs estimated LUTs; test accuracy only for these): "
          + ", ".join(f"{r['trial']} val {r['val_acc']:.4f} test {r['test_acc']:.4f} {r['luts']:,} LUTs"
                      for r in sorted(res["front"], key=lambda r: r["luts"])))
    for k, v in res["paths"].items():
        print(f"{k}: {v}")
    return 0


def table_rows(rows, spec):
    from .results import table_rows as rows_of
    return rows_of(rows, spec)


def register(sub):
    s = sub.add_parser("sweep", help="design-space sweep on Ray Tune (embedded locally, or --address CLUSTER)")
    s.add_argument("spec", help="sweep spec YAML, or a bundled spec name (e.g. digits-tiny)")
    s.add_argument("-o", "--output", required=True, help="output directory (Ray Tune experiment, results, plot)")
    s.add_argument("--address", help="Ray cluster address (default: $RAY_ADDRESS, else an embedded local Ray)")
    s.add_argument("--resume", action="store_true", help="continue an interrupted sweep in --output")
    s.add_argument("--samples", type=int, help="override num_samples")
    s.add_argument("--force", action="store_true", help="start over in a non-empty --output")
    s.add_argument("-q", "--quiet", action="store_true", help="no Ray Tune progress table")
    s.set_defaults(func=cmd_sweep)
