"""SavedModel round trips of the 8/16-bit and unsigned integer dtypes: variables of each (through the
safetensors file), a signature taking and returning them, and the range check on its inputs."""
import numpy as np
import pytest

import gpuflow as gf

DTYPES = [gf.int8, gf.int16, gf.uint8, gf.uint32]


class Counters:
    """One variable per dtype, holding its extremes, and a signature that adds a uint8 input to one of them."""

    def __init__(self):
        self.vars = [gf.Variable(np.array([np.iinfo(d.np).min, np.iinfo(d.np).max, 7], d.np), name=f"v_{d.name}")
                     for d in DTYPES]

    @gf.function(input_signature=[gf.TensorSpec((None, 3), "uint8", name="pixels")])
    def bump(self, pixels):
        u8 = self.vars[2]
        return {"sum": pixels + u8, "wide": gf.cast(pixels, gf.uint32) * gf.constant(np.uint32(1000))}


def test_variables_and_signature_round_trip(device, tmp_path):
    with gf.device(device):
        obj = Counters()
        gf.saved_model.save(obj, tmp_path / "m")
        loaded = gf.saved_model.load(tmp_path / "m")
        stored = {v.name: v for v in loaded.variables}
        for d in DTYPES:
            v = stored[f"v_{d.name}"]
            assert v.dtype == d
            np.testing.assert_array_equal(v.numpy(), [np.iinfo(d.np).min, np.iinfo(d.np).max, 7])
        serve = loaded.signatures["serving_default"]
        assert [(n, s.dtype) for n, s in serve.inputs] == [("pixels", gf.uint8)]
        out = serve(pixels=np.array([[0, 1, 250]], np.uint8))
        assert out["sum"].dtype == gf.uint8 and out["wide"].dtype == gf.uint32
        np.testing.assert_array_equal(out["sum"].numpy(), [[0, 0, 1]])  # 0 + 0, 1 + 255 wraps, 250 + 7 wraps
        np.testing.assert_array_equal(out["wide"].numpy(), [[0, 1000, 250_000]])
        np.testing.assert_array_equal(serve(pixels=[[1, 2, 3]])["sum"].numpy(), [[1, 1, 10]])  # lists convert
        with pytest.raises(gf.errors.InvalidArgumentError, match=r"input pixels: holds -1, out of range for uint8"):
            serve(pixels=[[-1, 0, 0]])
        with pytest.raises(gf.errors.InvalidArgumentError, match="fractions"):
            serve(pixels=[[0.5, 0, 0]])
