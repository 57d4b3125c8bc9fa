"""Shipped contract templates (YAML): ``<family>-<version>.yaml`` is template ``family:version``."""
