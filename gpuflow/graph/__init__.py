"""gf.function: trace → IR → replay (see function.py, trace.py, executor.py)."""
from .control_flow import cond, while_loop  # noqa: F401
from .function import ConcreteFunction, Function, function, functions_run_eagerly, run_functions_eagerly  # noqa: F401
from .printing import gf_print  # noqa: F401
