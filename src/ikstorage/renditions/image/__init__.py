"""The pixel work of renditions: decode once, render every spec, encode.

:func:`~ikstorage.renditions.image.pipeline.render` takes a seekable stream
and the specs that apply to it and returns bytes and plain values. Nothing
here touches a storage or a cache: the caller decides where the bytes go and
what a record keeps.

It is apart from the rest of :mod:`ikstorage.renditions` (the lookup, the
save hook, deferred tasks, markup) because it is the one part that needs
Pillow and LittleCMS and the one part that does not need a storage: it can be
read, tested and benchmarked on bytes alone, and a change to how renditions
are stored or found never has to open it.

The modules, one job each:

* :mod:`.pipeline` — :func:`render`: refuses bad input before decoding, runs a job;
* :mod:`.results` — :class:`Output` and :class:`Rendered`, what a render returns;
* :mod:`.job` — one source's decode (shrink-on-load), resizes, colour and encodes;
* :mod:`.declared` — the canvas GIF and WebP headers declare, read before Pillow opens them;
* :mod:`.scans` — a JPEG's scans counted from its markers (the time a JPEG takes);
* :mod:`.frames` — animated sources: the budget, decided before decoding, then frames in turn;
* :mod:`.bad_input` — Pillow's errors on bad input as the library's typed errors;
* :mod:`.geometry` — each spec's output size and the region of the source it shows;
* :mod:`.colour` — working modes, sRGB, alpha;
* :mod:`.encoders` — per-format encoder options, extension and MIME type;
* :mod:`.placeholder` — the dominant colour and a tiny WebP preview.
"""
