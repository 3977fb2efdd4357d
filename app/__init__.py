"""The app layer: the ``fieldstream`` command's root, the local stack, the demo. The only layer that
knows every component (see ARCHITECTURE.md)."""
