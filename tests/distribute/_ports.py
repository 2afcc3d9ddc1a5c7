"""Free localhost ports for the multi-worker tests (a module of its own: conftest modules of other test
folders share the name `conftest`, so importing from one is ambiguous)."""
import socket


def free_ports(n):
    """n ports free on 127.0.0.1 now (bound then released; the tests bind them again at once)."""
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()
