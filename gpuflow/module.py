"""gf.Module, as tf.Module: a named container whose Variables and sub-modules are found by walking its attributes.

    class Linear(gf.Module):
        def __init__(self, n_in, n_out, name=None):
            super().__init__(name=name)
            self.w = gf.Variable(gf.random.normal([n_in, n_out]), name="w")
            self.b = gf.Variable(gf.zeros([n_out]), name="b")

        @gf.Module.with_name_scope
        def __call__(self, x):
            return x @ self.w + self.b

The walk is TF's: a module's attributes in sorted order, looking inside lists, tuples and dicts (dicts by sorted
key); first everything found directly on the module, then, depth first, inside each sub-module found. Each object
is found once, so cycles and shared variables are safe. A Keras layer or model held by a module counts as a
sub-module, and its weights as the module's variables (in TF, Keras layers are Modules).
"""
from __future__ import annotations

import functools
import re

from ._names import name_scope as _name_scope
from .tensor import Variable

__all__ = ["Module"]

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class Module:
    """Base class for objects holding Variables and other modules: `variables`, `trainable_variables`,
    `non_trainable_variables` and `submodules` are found by walking the attributes; `name` defaults to the class
    name in snake_case."""

    def __init__(self, name=None):
        if name is None:
            name = _snake(type(self).__name__)
        elif not isinstance(name, str) or not _IDENTIFIER.match(name):
            raise ValueError(f"Module: name {name!r} must be a valid Python identifier (letters, digits and '_', "
                             f"not starting with a digit)")
        self._name = name
        with _name_scope(name) as scope:  # under any scope open while the module is made, as TF does
            self._scope_name = scope

    @property
    def name(self) -> str:
        return self._name

    @property
    def name_scope(self):
        """A gf.name_scope for this module's ops (`with self.name_scope:`)."""
        return _name_scope(self._scope_name)

    @property
    def variables(self) -> tuple:
        """Every Variable of this module and its sub-modules, each once, in walk order."""
        return tuple(_walk(self, _is_variable))

    @property
    def trainable_variables(self) -> tuple:
        return tuple(v for v in self.variables if v.trainable)

    @property
    def non_trainable_variables(self) -> tuple:
        return tuple(v for v in self.variables if not v.trainable)

    @property
    def submodules(self) -> tuple:
        """Every module (and Keras layer) below this one, each once, in walk order."""
        return tuple(_walk(self, _is_module))

    @classmethod
    def with_name_scope(cls, method):
        """Decorator: the method runs inside the module's name_scope, as tf.Module.with_name_scope."""
        @functools.wraps(method)
        def scoped(self, *args, **kwargs):
            with self.name_scope:
                return method(self, *args, **kwargs)
        return scoped

    def __repr__(self):
        return f"<{type(self).__name__} {self._name!r}: {len(self.variables)} variables>"

    def _checkpoint_variables(self) -> list:
        """(attribute path, Variable) of this module's variables as gf.train.Checkpoint keys them (`w`,
        `layers/0/b`): lists and tuples by index, dicts by key; a Keras layer's weights by their Keras paths
        below its attribute. Each variable once, at the first path reached (attributes in sorted order)."""
        return list(_paths(self, "", set()))


def _snake(name: str) -> str:
    """'DenseBlock2' → 'dense_block2', as TF names a module after its class."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower()


def _is_variable(x) -> bool:
    return isinstance(x, Variable)


def _is_keras_layer(x) -> bool:  # duck-typed: the Keras engine sits above this layer of the package
    return not isinstance(x, type) and hasattr(x, "trainable_weights") and hasattr(x, "non_trainable_weights")


def _is_module(x) -> bool:
    return isinstance(x, Module) or _is_keras_layer(x)


def _leaves(value, path=""):
    """(path, object) of the objects inside an attribute's value: lists and tuples opened by index, dicts by key
    (sorted), all the way down; `path` is the attribute's, extended by `/index` and `/key`."""
    if isinstance(value, dict):
        for key in sorted(value, key=repr):
            yield from _leaves(value[key], f"{path}/{key}")
    elif isinstance(value, (list, tuple)) and not isinstance(value, Variable):
        for i, item in enumerate(value):
            yield from _leaves(item, f"{path}/{i}")
    else:
        yield path, value


def _walk(module, predicate, seen=None):
    """TF's order: what the module holds directly (attributes sorted by name), then each sub-module's, depth first."""
    seen = {id(module)} if seen is None else seen
    if _is_keras_layer(module) and not isinstance(module, Module):
        children = list(module.trainable_weights) + list(module.non_trainable_weights)
    else:
        attributes = vars(module)
        children = [leaf for key in sorted(attributes) for _, leaf in _leaves(attributes[key])]
    below = []
    for leaf in children:
        if id(leaf) in seen:
            continue
        seen.add(id(leaf))
        if predicate(leaf):
            yield leaf
        if _is_module(leaf):
            below.append(leaf)
    for sub in below:
        yield from _walk(sub, predicate, seen)


def _paths(module, prefix, seen):
    seen.add(id(module))
    attributes = vars(module)
    for key in sorted(attributes):
        for path, value in _leaves(attributes[key], prefix + key):
            if id(value) in seen:
                continue
            if isinstance(value, Variable):
                seen.add(id(value))
                yield path, value
            elif isinstance(value, Module):
                yield from _paths(value, path + "/", seen)
            elif _is_keras_layer(value) and hasattr(value, "_checkpoint_variables"):
                seen.add(id(value))
                for name, var in value._checkpoint_variables():
                    if id(var) not in seen:
                        seen.add(id(var))
                        yield f"{path}/{name}", var
