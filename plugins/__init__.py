"""The paper's two semantic signals, as plugins of semantic-inpaint.

Written only against the library's public API and registered through the entry-point group
``semantic_inpaint`` exactly like a third-party plugin. Shipped in the ``semantic-inpaint``
wheel as the ``semantic_inpaint_plugins`` package.
"""
