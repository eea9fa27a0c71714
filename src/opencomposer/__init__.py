"""OpenComposer: an open, local music studio with generative models."""

__version__ = "0.1.0"
