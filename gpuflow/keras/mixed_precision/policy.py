"""DTypePolicy and the global policy (Keras 3's `keras.DTypePolicy`, `keras.config.set_dtype_policy`)."""
from __future__ import annotations

from ... import dtypes as _dtypes
from .. import backend as _backend

_MIXED = {"mixed_float16": "float16", "mixed_bfloat16": "bfloat16"}
_global = None  # the policy set by set_global_policy; None means floatx()


class DTypePolicy:
    """A layer's compute and variable dtypes, from a name: "mixed_float16" and "mixed_bfloat16" compute in
    float16 / bfloat16 on float32 variables; any dtype name ("float32", "float64", "int32"...) is both.
    `DTypePolicy()` is a copy of the global policy. Dtypes are returned as names, as in Keras 3."""

    def __init__(self, name=None):
        if name is None:
            name = global_policy().name
        if not isinstance(name, str):
            raise TypeError(f"DTypePolicy: name must be a string such as 'mixed_float16', got {name!r} "
                            f"({type(name).__name__})")
        if name in _MIXED:
            compute, variable = _MIXED[name], "float32"
        else:
            try:
                compute = variable = _dtypes.as_dtype(name).name
            except TypeError:
                raise ValueError(f"DTypePolicy: cannot make a policy from {name!r}; valid policies are "
                                 f"'mixed_float16', 'mixed_bfloat16' and dtype names such as 'float32', "
                                 f"'bfloat16', 'float16', 'float64'") from None
        self._name, self._compute_dtype, self._variable_dtype = name, compute, variable

    name = property(lambda self: self._name)
    compute_dtype = property(lambda self: self._compute_dtype)
    variable_dtype = property(lambda self: self._variable_dtype)
    quantization_mode = property(lambda self: None)

    @property
    def is_mixed(self) -> bool:
        return self._compute_dtype != self._variable_dtype

    def get_config(self):
        return {"name": self._name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __eq__(self, other):
        return type(other) is type(self) and other._name == self._name

    def __hash__(self):
        return hash(self._name)

    def __repr__(self):
        return f'<DTypePolicy "{self._name}">'


Policy = DTypePolicy  # tf.keras 2's name


def get(identifier) -> DTypePolicy:
    """A policy from a layer's `dtype` argument: None (the global policy), a DTypePolicy, a policy or dtype
    name, a DType / NumPy dtype, or Keras 3's serialised {"class_name": "DTypePolicy", "config": {...}}."""
    if identifier is None:
        return global_policy()
    if isinstance(identifier, DTypePolicy):
        return identifier
    if isinstance(identifier, dict):
        if identifier.get("class_name") not in ("DTypePolicy", "Policy", "FloatDTypePolicy") \
                or not isinstance(identifier.get("config"), dict):
            raise ValueError(f"cannot read a dtype policy from {identifier!r:.120}; expected "
                             f"{{'class_name': 'DTypePolicy', 'config': {{'name': ...}}}}")
        return DTypePolicy.from_config(identifier["config"])
    if isinstance(identifier, str):
        return DTypePolicy(identifier)
    try:
        return DTypePolicy(_dtypes.as_dtype(getattr(identifier, "name", identifier)).name)
    except TypeError:
        raise TypeError(f"cannot interpret {identifier!r:.80} as a dtype policy: give a DTypePolicy, a name such "
                        f"as 'mixed_float16' or 'float32', or a dtype") from None


def serialize(policy: DTypePolicy) -> dict:
    """Keras 3's form of a layer config's "dtype"."""
    return {"module": "keras", "class_name": "DTypePolicy", "config": policy.get_config(), "registered_name": None}


def set_global_policy(policy) -> None:
    """The policy of layers made from now on without a `dtype` (None: back to floatx()). Only floating-point
    policies can be global, as in Keras."""
    global _global
    if policy is None:
        _global = None
        return
    if not isinstance(policy, (DTypePolicy, str)):
        raise ValueError(f"set_global_policy: expected a policy name such as 'mixed_float16' or a DTypePolicy, "
                         f"got {policy!r:.80} ({type(policy).__name__})")
    policy = get(policy)
    if not _dtypes.as_dtype(policy.compute_dtype).is_floating:
        raise ValueError(f"set_global_policy: the global policy must be floating point, got {policy.name!r}; give "
                         f"integer layers their dtype directly")
    _global = policy


def global_policy() -> DTypePolicy:
    """The dtype policy new layers get when given none: set_global_policy's, else floatx()'s ('float32')."""
    return _global if _global is not None else DTypePolicy(_backend.floatx())


set_dtype_policy, dtype_policy = set_global_policy, global_policy  # Keras 3's keras.config names
