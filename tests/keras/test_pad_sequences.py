"""keras.utils.pad_sequences (and keras.preprocessing.sequence's): padding and truncating at either end, maxlen,
dtype, value, sequences of vectors, empty ones, and bad options."""
import numpy as np
import pytest

import gpuflow as gf

pad = gf.keras.utils.pad_sequences


def test_padding_and_truncating_at_either_end():
    seqs = [[1, 2, 3], [4], [5, 6, 7, 8, 9], []]
    np.testing.assert_array_equal(pad(seqs), [[0, 0, 1, 2, 3], [0, 0, 0, 0, 4], [5, 6, 7, 8, 9], [0] * 5])
    np.testing.assert_array_equal(pad(seqs, maxlen=3, padding="post", truncating="post"),
                                  [[1, 2, 3], [4, 0, 0], [5, 6, 7], [0, 0, 0]])
    np.testing.assert_array_equal(pad(seqs, maxlen=3), [[1, 2, 3], [0, 0, 4], [7, 8, 9], [0, 0, 0]])
    out = pad(seqs, maxlen=4, dtype="float32", value=-1.0, padding="post")
    assert out.dtype == np.float32 and out[1].tolist() == [4.0, -1.0, -1.0, -1.0]
    assert pad(seqs).dtype == np.int32
    assert gf.keras.preprocessing.sequence.pad_sequences is pad


def test_sequences_of_vectors_and_edge_cases():
    seqs = [np.ones((2, 3)), np.zeros((1, 3)) + 2]
    out = pad(seqs, padding="post", dtype="float32")
    assert out.shape == (2, 2, 3) and out[1, 1].tolist() == [0.0, 0.0, 0.0] and out[1, 0].tolist() == [2.0] * 3
    assert pad([]).shape == (0, 0)
    assert pad([[1, 2]], maxlen=0).shape == (1, 0)
    with pytest.raises(ValueError, match="padding must be 'pre' or 'post'"):
        pad([[1]], padding="middle")
    with pytest.raises(ValueError, match="sequence 1's elements have shape"):
        pad([np.ones((1, 2)), np.ones((1, 3))])
