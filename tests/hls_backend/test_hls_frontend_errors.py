"""The PyTorch frontend names what the LUTNet backend cannot implement in the user's terms: a
softmax after the class scores is refused naming the user's module and the call as written, never
an internal tracer node such as ``getattr_1``."""
import pytest
import torch

hls4ml = pytest.importorskip("hls4ml")

from lutnet.errors import LutnetError, UnsupportedModelError  # noqa: E402
from lutnet.nn import LUTLayer, LUTNet  # noqa: E402


def lut_net():
    torch.manual_seed(0)
    return LUTNet([LUTLayer(8, 6, 2, input_quant="signed", input_bit_width=2, seed=0),
                   LUTLayer(6, 3, 2, output_quant="signed", output_bit_width=3, seed=1)])


class WithSoftmax(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.net = lut_net()

    def forward(self, x):
        return torch.softmax(self.net(x), dim=1)


class MethodSoftmax(WithSoftmax):
    def forward(self, x):
        return self.net(x).softmax(-1)


class SoftmaxNet(LUTNet):
    def forward(self, x):
        return torch.nn.functional.softmax(super().forward(x), dim=-1)


@pytest.mark.parametrize("make,call", [(WithSoftmax, "WithSoftmax.forward calls torch.softmax"),
                                       (MethodSoftmax, "MethodSoftmax.forward calls .softmax()"),
                                       (lambda: SoftmaxNet(list(lut_net().layers)),
                                        "SoftmaxNet.forward calls torch.nn.functional.softmax")])
def test_softmax_is_refused_naming_the_users_module(tmp_path, make, call):
    model = make().eval()
    with pytest.raises(UnsupportedModelError) as e:
        hls4ml.converters.convert_from_pytorch_model(model, output_dir=str(tmp_path / "p"), backend="LUTNet",
                                                     hls_config={"InputShape": (8,)})
    msg = str(e.value)
    assert isinstance(e.value, LutnetError) and isinstance(e.value, ValueError)
    assert msg.startswith(f"the LUTNet backend cannot implement what this model computes: {call}. "), msg
    assert "A softmax does not change which class scores highest: convert the model without it" in msg
    assert "getattr" not in msg


def test_softmax_module_is_named_by_its_attribute(tmp_path):
    class M(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.net, self.probs = lut_net(), torch.nn.Softmax(dim=1)

        def forward(self, x):
            return self.probs(self.net(x))

    with pytest.raises(UnsupportedModelError, match=r"cannot implement 1 module\(s\) of this model: 'probs' \(Softmax\)"):
        hls4ml.converters.convert_from_pytorch_model(M().eval(), output_dir=str(tmp_path / "p"), backend="LUTNet",
                                                     hls_config={"InputShape": (8,)})
