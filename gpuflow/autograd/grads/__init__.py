"""The grad rules of the primitives that are written in the public ops (one module per op family, named as in
gpuflow/ops): they sit above the ops they are written in and attach themselves to their primitives with
`defgrad` when imported. A rule that is just another primitive of its own family stays beside it in
gpuflow/ops. Adding a family's rules is adding a file here."""
from ...backend import import_family_modules

import_family_modules(__name__, __path__)
