"""What the ``gallery_demo`` and ``gallery_render`` commands share.

``images`` makes the sample photos, ``measure`` renders a page and counts
its S3 calls, ``latency`` simulates a distant S3, ``report`` prints the table.
"""
