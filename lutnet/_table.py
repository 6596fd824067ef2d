"""Plain-text tables for the command line, the demo, tutorials and benchmarks (no heavy imports)."""
from __future__ import annotations


def _cell(v) -> str:
    if isinstance(v, float):
        return f"{v:,.1f}"
    if isinstance(v, int) and not isinstance(v, bool):
        return f"{v:,}"
    return str(v)


def format_table(rows: list[dict], columns=None) -> str:
    """A plain text table of dict rows (first column left-aligned, the others right-aligned)."""
    if not rows:
        return "(empty)"
    columns = columns or list(rows[0])
    body = [[_cell(r.get(c, "")) for c in columns] for r in rows]
    widths = [max(len(c), *(len(b[i]) for b in body)) for i, c in enumerate(columns)]

    def line(vals):
        return "  ".join(v.rjust(w) if i else v.ljust(w) for i, (v, w) in enumerate(zip(vals, widths)))
    return "\n".join([line(columns), line(["-" * w for w in widths])] + [line(b) for b in body])
