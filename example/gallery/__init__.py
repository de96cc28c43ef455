"""The gallery app: a ``Photo`` model with a plain ``ImageField``, its pages, and the demo."""
