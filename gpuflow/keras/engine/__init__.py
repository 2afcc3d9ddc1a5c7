"""The Keras engine: Layer, Input, Model (functional, Sequential, subclassed), training loops and saving."""
