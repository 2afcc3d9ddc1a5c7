"""Runtime: kernel sources and loaders, memory, streams. Imports nothing from the layers above."""
