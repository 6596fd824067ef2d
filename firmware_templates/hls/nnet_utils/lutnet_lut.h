// lutnet LUT-layer kernels for Vitis/Vivado HLS (header only, io_parallel).
// Conventions of the LUT IR: a code travels as its bit pattern; a neuron's table address packs its
// input 0 in the least significant bits.
#ifndef LUTNET_LUT_H_
#define LUTNET_LUT_H_

#include "ap_int.h"
#include <stdint.h>

namespace lutnet {

// Base of the generated per-layer config structs (see parameters.h).
struct lut_config {
    static const unsigned n_in = 1;       // width of the input vector
    static const unsigned n_out = 1;      // neurons
    static const unsigned fan_in = 1;     // inputs per neuron (padded inputs have mask 0)
    static const unsigned in_width = 1;   // bit width of the input code type
    static const unsigned addr_bits = 1;  // widest table address
    static const unsigned n_rows = 2;     // rows of every (padded) table = 2**addr_bits
};

// Table address type: exact width for synthesis; a native unsigned (same values) in C simulation,
// where ap_uint arithmetic would make batched predictions ~10x slower.  Define LUTNET_SYNTH_TYPES
// to simulate with the synthesis types.
#if defined(__SYNTHESIS__) && !defined(LUTNET_SYNTH_TYPES)
#define LUTNET_SYNTH_TYPES
#endif
template <unsigned A> struct lut_addr {
#ifdef LUTNET_SYNTH_TYPES
    typedef ap_uint<A> type;
#else
    typedef unsigned type;
#endif
};

// One lookup per neuron: res[k] = tables[k][address(k)], with
//   address(k) = OR_j ((pattern(data[index[k][j]]) & mask[k][j]) << shift[k][j]),
// or for a sum-address (adder) neuron address(k) = (sum_j code(data[index[k][j]])) & sum_mask[k].
// Each table is a const ROM; complete partitioning gives every neuron its own ROM, which the
// storage binding maps to LUTs (distributed ROM = LUT logic).
template <class data_T, class res_T, typename CONFIG_T, class table_T>
void lut_layer(const data_T data[CONFIG_T::n_in], res_T res[CONFIG_T::n_out],
               const table_T tables[CONFIG_T::n_out][CONFIG_T::n_rows]) {
    #pragma HLS INLINE
    #pragma HLS ARRAY_PARTITION variable=tables complete dim=1
#ifdef __VITIS_HLS__
    #pragma HLS BIND_STORAGE variable=tables type=rom_np impl=lutram
#else
    #pragma HLS RESOURCE variable=tables core=ROM_nP_LUTRAM
#endif
Neurons:
    for (unsigned k = 0; k < CONFIG_T::n_out; k++) {
        #pragma HLS UNROLL
        typename lut_addr<CONFIG_T::addr_bits>::type addr = 0;
        if (CONFIG_T::sum_address[k]) {
            // adder neuron: row = sum of the input codes mod 2**(its address bits)
            long long sum = 0;
        Summands:
            for (unsigned j = 0; j < CONFIG_T::fan_in; j++) {
                #pragma HLS UNROLL
                const unsigned c = k * CONFIG_T::fan_in + j;
                if (CONFIG_T::mask[c])
                    sum += (long long)data[CONFIG_T::index[c]].to_int64();
            }
            addr = (typename lut_addr<CONFIG_T::addr_bits>::type)(sum & CONFIG_T::sum_mask[k]);
        } else {
        Inputs:
            for (unsigned j = 0; j < CONFIG_T::fan_in; j++) {
                #pragma HLS UNROLL
                const unsigned c = k * CONFIG_T::fan_in + j;
                const unsigned field = data[CONFIG_T::index[c]].to_uint() & CONFIG_T::mask[c];  // the input's bit pattern
                addr |= (typename lut_addr<CONFIG_T::addr_bits>::type)(field << CONFIG_T::shift[c]);
            }
        }
        res[k] = tables[k][addr];
    }
}

struct thermometer_config {
    static const unsigned n_in = 1;   // raw input features
    static const unsigned n_out = 1;  // encoded bits (one per threshold)
};

// Thermometer encoder: res[k] = (data[feature[k]] >= threshold[k]), on the raw input codes (two's
// complement for signed codes).  Thresholds outside the code range give constant bits.
template <class data_T, class res_T, typename CONFIG_T>
void thermometer(const data_T data[CONFIG_T::n_in], res_T res[CONFIG_T::n_out]) {
    #pragma HLS INLINE
Bits:
    for (unsigned k = 0; k < CONFIG_T::n_out; k++) {
        #pragma HLS UNROLL
        res[k] = ((long long)data[CONFIG_T::feature[k]].to_int64() >= CONFIG_T::threshold[k]) ? 1 : 0;
    }
}

struct groupsum_config {
    static const unsigned n_in = 1;   // outputs of the last LUT layer
    static const unsigned n_out = 1;  // classes
    static const unsigned width = 1;  // members of the largest class (member lists padded with n_in)
    // and per member slot: static const unsigned member[n_out * width], shift[n_out * width]
};

// GroupSum head: res[c] = the exact sum of the codes of class c's members, each shifted left by its
// shift (its power-of-two weight).  res_T holds every score (its width comes from the members' weighted
// code ranges), so every partial sum is exact too.
template <class data_T, class res_T, typename CONFIG_T>
void group_sum(const data_T data[CONFIG_T::n_in], res_T res[CONFIG_T::n_out]) {
    #pragma HLS INLINE
Classes:
    for (unsigned c = 0; c < CONFIG_T::n_out; c++) {
        #pragma HLS UNROLL
        res_T acc = 0;
    Members:
        for (unsigned j = 0; j < CONFIG_T::width; j++) {
            #pragma HLS UNROLL
            const unsigned m = CONFIG_T::member[c * CONFIG_T::width + j];
            if (m < CONFIG_T::n_in)
                acc += res_T(data[m]) << CONFIG_T::shift[c * CONFIG_T::width + j];
        }
        res[c] = acc;
    }
}

struct argmax_config {
    static const unsigned n_in = 1;
};

// Index of the first maximum code (the predicted class).
template <class data_T, class res_T, typename CONFIG_T>
void argmax(const data_T data[CONFIG_T::n_in], res_T res[1]) {
    #pragma HLS INLINE
    data_T best = data[0];
    res_T arg = 0;
ArgMax:
    for (unsigned i = 1; i < CONFIG_T::n_in; i++) {
        #pragma HLS UNROLL
        if (data[i] > best) {
            best = data[i];
            arg = i;
        }
    }
    res[0] = arg;
}

#ifndef __SYNTHESIS__
// C simulation trace: append a layer's N output codes at dst (no-op when dst is null).
template <unsigned N, class T> void trace_store(int32_t *&dst, const T src[N]) {
    if (!dst)
        return;
    for (unsigned i = 0; i < N; i++)
        dst[i] = (int32_t)src[i].to_int();
    dst += N;
}
#endif

} // namespace lutnet

#endif
