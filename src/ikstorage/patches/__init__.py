"""What the ``ikstorage`` app changes in Django's file classes, each undone when switched off.

* :mod:`.imagefile` — ``ImageFile.width``/``.height`` asked of the storage first;
* :mod:`.descriptor` — model file fields: names noted as instances load, and
  the bound field file returned without Django's four re-checks.
"""
