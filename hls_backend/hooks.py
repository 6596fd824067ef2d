"""Run a callback once a module has been imported (now, if it already is).

hls4ml loads backend plugins while its own package is still importing (``hls4ml.converters`` is
half-initialized), so the plugin cannot register frontend handlers or touch ``hls4ml.cli`` at that
moment; it registers these callbacks instead, which run right after those modules finish executing.
A module that is still initializing is not hooked (it will not be loaded again): hook a later one."""
from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys

_pending: dict[str, list] = {}


class _Loader(importlib.abc.Loader):
    def __init__(self, inner):
        self.inner = inner

    def create_module(self, spec):
        return self.inner.create_module(spec)

    def exec_module(self, module):
        self.inner.exec_module(module)
        for cb in _pending.pop(module.__name__, []):
            cb(module)

    def __getattr__(self, name):
        return getattr(self.inner, name)


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name not in _pending:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is not None and spec.loader is not None and not isinstance(spec.loader, _Loader):
            spec.loader = _Loader(spec.loader)
        return spec


_FINDER = _Finder()


def when_imported(name: str, callback):
    module = sys.modules.get(name)
    if module is not None and getattr(getattr(module, '__spec__', None), '_initializing', False) is False:
        callback(module)
        return
    _pending.setdefault(name, []).append(callback)
    if _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)


def install_trace(graph_module):
    """``ModelGraph.trace`` is not dispatched to the backend by hls4ml (it assumes the stock C++
    bridge); route it to ``backend.trace`` when the model's backend defines one (the LUTNet backend
    does), and to the stock method otherwise."""
    graph = graph_module.ModelGraph
    stock = graph.trace
    if getattr(stock, '_lutnet', False):
        return

    def trace(self, x, *args, **kwargs):
        impl = getattr(getattr(self.config, 'backend', None), 'trace', None)
        if impl is None:
            return stock(self, x, *args, **kwargs)
        return impl(self, x, *args, **kwargs)

    trace.__doc__, trace.__wrapped__, trace._lutnet = stock.__doc__, stock, True
    graph.trace = trace
