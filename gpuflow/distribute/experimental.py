"""gf.distribute.experimental: TF's names for communication options and the multi-worker strategy."""
from .multi_worker import MultiWorkerMirroredStrategy  # noqa: F401
from .options import CollectiveCommunication, CommunicationImplementation, CommunicationOptions  # noqa: F401
