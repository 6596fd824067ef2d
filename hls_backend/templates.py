"""Config and function-call templates of the C++ (HLS) output: they fill the layer attributes
``config_cpp`` and ``function_cpp`` that the writer pastes into parameters.h and the top function."""
from __future__ import annotations

import numpy as np
from hls4ml.backends.template import FunctionCallTemplate, LayerConfigTemplate

from .layers import LUTArgmax, LUTDense, LUTGroupSum, LUTThermometer


def c_list(values) -> str:
    return ', '.join(map(str, np.asarray(values).reshape(-1).tolist()))


lut_config_template = """struct config{index} : lutnet::lut_config {{
    static const unsigned n_in = {n_in};
    static const unsigned n_out = {n_out};
    static const unsigned fan_in = {fan_in};
    static const unsigned in_width = {in_width};
    static const unsigned addr_bits = {addr_width};
    static const unsigned n_rows = {n_rows};
    static const unsigned index[{n_conn}];
    static const unsigned mask[{n_conn}];
    static const unsigned shift[{n_conn}];
    static const bool sum_address[{n_out_arr}];
    static const long long sum_mask[{n_out_arr}];
}};
const unsigned config{index}::index[{n_conn}] = {{{index_list}}};
const unsigned config{index}::mask[{n_conn}] = {{{mask_list}}};
const unsigned config{index}::shift[{n_conn}] = {{{shift_list}}};
const bool config{index}::sum_address[{n_out_arr}] = {{{sum_list}}};
const long long config{index}::sum_mask[{n_out_arr}] = {{{sum_mask_list}}};
"""

thermometer_config_template = """struct config{index} : lutnet::thermometer_config {{
    static const unsigned n_in = {n_in};
    static const unsigned n_out = {n_out};
    static const unsigned feature[{n_out}];
    static const long long threshold[{n_out}];
}};
const unsigned config{index}::feature[{n_out}] = {{{feature_list}}};
const long long config{index}::threshold[{n_out}] = {{{threshold_list}}};
"""

groupsum_config_template = """struct config{index} : lutnet::groupsum_config {{
    static const unsigned n_in = {n_in};
    static const unsigned n_out = {n_out};
    static const unsigned width = {width};
    static const unsigned member[{n_members}];
    static const unsigned shift[{n_members}];
}};
const unsigned config{index}::member[{n_members}] = {{{member_list}}};
const unsigned config{index}::shift[{n_members}] = {{{shift_list}}};
"""

argmax_config_template = """struct config{index} : lutnet::argmax_config {{
    static const unsigned n_in = {n_in};
}};
"""


class LUTDenseConfigTemplate(LayerConfigTemplate):
    def __init__(self):
        super().__init__(LUTDense)

    def format(self, node):
        lut = node.get_attr('lut')
        params = self._default_config_params(node)
        addr_width = max(1, node.get_attr('addr_bits'))
        params.update(
            in_width=node.get_input_variable().type.precision.width,
            addr_width=addr_width,
            n_rows=1 << addr_width,
            n_conn=max(1, lut.indices.size),
            index_list=c_list(np.where(lut.indices >= 0, lut.indices, 0)) or '0',
            mask_list=c_list(np.left_shift(1, lut.in_bits) - 1) or '0',
            shift_list=c_list(lut.shifts()) or '0',
            n_out_arr=max(1, lut.out_features),
            sum_list=', '.join('true' if v else 'false' for v in lut.sum_address.tolist()) or 'false',
            sum_mask_list=c_list(np.left_shift(1, lut.address_bits) - 1) or '0',
        )
        return lut_config_template.format(**params)


class LUTDenseFunctionTemplate(FunctionCallTemplate):
    def __init__(self):
        super().__init__(LUTDense, include_header=['nnet_utils/lutnet_lut.h'])

    def format(self, node):
        p = self._default_function_params(node)
        return (f"lutnet::lut_layer<{p['input_t']}, {p['output_t']}, {p['config']}>"
                f"({p['input']}, {p['output']}, t{node.index});")


class LUTThermometerConfigTemplate(LayerConfigTemplate):
    def __init__(self):
        super().__init__(LUTThermometer)

    def format(self, node):
        feat, thr = node.get_attr('encoder').flat()
        params = self._default_config_params(node)
        params.update(feature_list=c_list(feat), threshold_list=', '.join(f'{int(t)}LL' for t in thr))
        return thermometer_config_template.format(**params)


class LUTThermometerFunctionTemplate(FunctionCallTemplate):
    def __init__(self):
        super().__init__(LUTThermometer, include_header=['nnet_utils/lutnet_lut.h'])

    def format(self, node):
        p = self._default_function_params(node)
        return (f"lutnet::thermometer<{p['input_t']}, {p['output_t']}, {p['config']}>"
                f"({p['input']}, {p['output']});")


class LUTGroupSumConfigTemplate(LayerConfigTemplate):
    def __init__(self):
        super().__init__(LUTGroupSum)

    def format(self, node):
        head = node.get_attr('head')
        n_in = node.get_attr('n_in')
        members = [head.members(c) for c in range(head.n_classes)]
        width = max(len(m) for m in members)
        idx = np.full((head.n_classes, width), n_in, np.int64)  # n_in: no member (padding)
        shift = np.zeros((head.n_classes, width), np.int64)
        for c, m in enumerate(members):
            idx[c, :len(m)] = m
            shift[c, :len(m)] = head.shifts[m]
        params = self._default_config_params(node)
        params.update(width=width, n_members=idx.size, member_list=c_list(idx), shift_list=c_list(shift))
        return groupsum_config_template.format(**params)


class LUTGroupSumFunctionTemplate(FunctionCallTemplate):
    def __init__(self):
        super().__init__(LUTGroupSum, include_header=['nnet_utils/lutnet_lut.h'])

    def format(self, node):
        p = self._default_function_params(node)
        return (f"lutnet::group_sum<{p['input_t']}, {p['output_t']}, {p['config']}>"
                f"({p['input']}, {p['output']});")


class LUTArgmaxConfigTemplate(LayerConfigTemplate):
    def __init__(self):
        super().__init__(LUTArgmax)

    def format(self, node):
        return argmax_config_template.format(**self._default_config_params(node))


class LUTArgmaxFunctionTemplate(FunctionCallTemplate):
    def __init__(self):
        super().__init__(LUTArgmax, include_header=['nnet_utils/lutnet_lut.h'])

    def format(self, node):
        p = self._default_function_params(node)
        return f"lutnet::argmax<{p['input_t']}, {p['output_t']}, {p['config']}>({p['input']}, {p['output']});"


TEMPLATES = [LUTDenseConfigTemplate, LUTDenseFunctionTemplate, LUTThermometerConfigTemplate,
             LUTThermometerFunctionTemplate, LUTGroupSumConfigTemplate, LUTGroupSumFunctionTemplate,
             LUTArgmaxConfigTemplate, LUTArgmaxFunctionTemplate]
