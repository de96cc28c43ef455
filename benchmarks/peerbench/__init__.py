"""The benchmark against the thumbnail libraries: one page, every contender, one run.

``benchmarks/peers.py`` is the command. It starts one moto S3 server and runs
each contender in Python processes of its own (:mod:`.child`), so no library's
in-process state, import or monkeypatch reaches another's numbers:

* :mod:`.contenders` - what each contender is: its model, its page, its settings;
* :mod:`.models` - the models, as each library's documentation writes them;
* :mod:`.photos` - the sample photos, the same bytes on every run;
* :mod:`.counting` - Django cache calls and database queries, for every library;
* :mod:`.child` - one process of one contender: upload, cold, warm, or a new process;
* :mod:`.report` - the Markdown tables, the chart and ``docs/benchmark.md``.
"""
