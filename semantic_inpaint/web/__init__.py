"""The page of ``semantic-inpaint serve`` (``index.html``)."""
