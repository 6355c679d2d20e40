"""The lazy backend: scheduling, batching, caching and device placement of solves."""
from .cache import SolveCache
from .explainer import Component, Explainer, Explanation, Sample

__all__ = ["Component", "Explainer", "Explanation", "Sample", "SolveCache"]
