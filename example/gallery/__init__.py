"""The gallery app: a ``Photo`` model with a plain ``ImageField``, one page, and the demo."""
