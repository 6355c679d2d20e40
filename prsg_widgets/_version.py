"""The package version (one place; read by the package, saved files and pyproject)."""
__version__ = "0.2.0.dev0"
