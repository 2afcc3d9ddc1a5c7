"""gf.config.optimizer: which graph compiler passes run, set as tf.config.optimizer's experimental options.

Names (all on by default):
    dead_code_elimination, common_subexpression_elimination, constant_folding, fusion   the IR passes
    memory_plan     a replayed step takes its buffers from one arena per function (no allocator calls)
    cuda_graphs     on cuda, a planned step is captured into a CUDA Graph and replayed
TF's `disable_meta_optimizer=True` turns every one off. Changing an option affects functions traced after it.
"""
from __future__ import annotations

NAMES = ("dead_code_elimination", "common_subexpression_elimination", "constant_folding", "fusion",
         "memory_plan", "cuda_graphs")
_options = {name: True for name in NAMES}


def set_experimental_options(options: dict) -> None:
    """Turn graph passes on or off by name (see the module doc); unknown names are an error."""
    if not isinstance(options, dict):
        raise TypeError(f"gf.config.optimizer.set_experimental_options: expected a dict, got {options!r:.80}")
    for name, value in options.items():
        if name == "disable_meta_optimizer":
            if value:
                _options.update(dict.fromkeys(NAMES, False))
            continue
        if name not in _options:
            raise ValueError(f"gf.config.optimizer.set_experimental_options: unknown option {name!r}; "
                             f"known: {', '.join(NAMES)}, disable_meta_optimizer")
        _options[name] = bool(value)


def get_experimental_options() -> dict:
    """The options as set, every name present."""
    return dict(_options)


def enabled_passes() -> set:
    return {name for name, on in _options.items() if on}


def enabled(name: str) -> bool:
    return _options[name]
