"""Grad rule of the projective transform (gpuflow/ops/image_prims.py), written in the public ops.

TF's rule (ImageProjectiveTransformV2/V3 in image_grad.py): the output gradient mapped back by the inverse
transform, which is the adjoint only up to interpolation; none for the transforms themselves."""
from __future__ import annotations

from ... import ops
from ...ops import image_prims as _prims
from ...ops.dispatch import defgrad
from ...ops.solver_ops import inv


@defgrad(_prims.image_projective_transform)
def _transform_grad(g, out, images, transforms, output_shape, interpolation, fill_mode, fill_value):
    n = transforms.shape[0]
    with_one = ops.concat([transforms, ops.ones_like(transforms[:, :1])], axis=1)
    inverse = ops.reshape(inv(ops.reshape(with_one, (n, 3, 3))), (n, 9))
    flat = ops.divide(inverse, inverse[:, 8:9])[:, :8]
    return _prims.image_projective_transform(g, flat, output_shape=tuple(images.shape[1:3]),
                                             interpolation=interpolation, fill_mode=fill_mode, fill_value=0.0), None
