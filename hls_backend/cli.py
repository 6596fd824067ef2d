"""``hls4ml build -p <project>`` / ``hls4ml report -p <project>`` for projects of this backend.

The stock CLI reads ``Backend`` from the project's ``hls4ml_config.yml`` and dispatches only Vivado
and Quartus by name.  Once ``hls4ml.cli`` is imported (the plugin is loaded first, by
``import hls4ml``), its ``_build``/``_report`` are wrapped: a project whose ``Backend`` is a plugin
backend with ``build_project``/``report_project`` is resolved through ``hls4ml.backends.get_backend``;
every other project goes to the stock code unchanged.  Errors follow the ``lutnet`` grammar
(:mod:`lutnet._cli`): exit status 0 ok, 2 user error, one line ``hls4ml build: error: ...`` and no
traceback for any LutnetError."""
from __future__ import annotations

import sys
from pathlib import Path


def _project_backend(project):
    import yaml

    from .project import CONFIG_FILE
    if project is None:
        return None
    path = Path(project) / CONFIG_FILE
    if not path.is_file():
        return None
    try:
        name = (yaml.safe_load(path.read_text()) or {}).get('Backend')
    except yaml.YAMLError:
        return None
    from hls4ml.backends.backend import backend_map
    return backend_map.get(str(name).lower()) if name else None


def _wrap(stock, method):
    command = method.split('_')[0]  # build_project -> build

    def dispatch(args, extra_args):
        from lutnet._cli import run_command
        backend = _project_backend(args.project)
        impl = getattr(backend, method, None)
        if impl is None:
            return stock(args, extra_args)
        # lutnet's grammar: 0 ok, 2 user error; a LutnetError is one line `hls4ml <cmd>: error: ...`
        sys.exit(run_command(f'hls4ml {command}', lambda a: impl(a.project, extra_args, list_options=a.list_options),
                             args))

    dispatch.__wrapped__ = stock
    return dispatch


def install_cli(cli_module):
    for fn, method in (('_build', 'build_project'), ('_report', 'report_project')):
        stock = getattr(cli_module, fn, None)
        if stock is not None and not hasattr(stock, '__wrapped__'):
            setattr(cli_module, fn, _wrap(stock, method))
