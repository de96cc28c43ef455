"""What the ``gallery_demo``, ``gallery_render`` and ``gallery_serve`` commands share.

``images`` makes the sample photos, ``measure`` renders a page and counts
its S3 calls, ``page`` reads what a page shows, ``expect`` works out the
sizes the specs should give, ``served`` fetches a page's image URLs as a
browser would, ``latency`` simulates a distant S3, ``report`` prints the tables.
"""
