"""The one Jinja2 set-up of lutnet: every template (Verilog, Yosys/Vivado scripts, the hls4ml
backend's C++ project) is rendered from ``lutnet.firmware_templates/<kind>/`` by ``render``."""
from __future__ import annotations

import functools
from pathlib import Path


def template_dir(kind: str) -> Path:
    """``firmware_templates/<kind>`` (``verilog`` or ``hls``) of the installed package."""
    from lutnet import firmware_templates
    return Path(firmware_templates.__file__).resolve().parent / kind


@functools.cache
def environment(kind: str):
    """The Jinja2 environment of ``firmware_templates/<kind>``: strict undefined variables, trailing
    newlines kept; one per kind, created on first use."""
    import jinja2
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(template_dir(kind))),
                              keep_trailing_newline=True, undefined=jinja2.StrictUndefined)


def render(_kind: str, _template: str, /, **kw) -> str:
    """Render template ``_template`` of ``firmware_templates/<_kind>`` with the variables ``kw``."""
    return environment(_kind).get_template(_template).render(**kw)
