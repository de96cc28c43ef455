"""Save files through ``CachedStorage``, each in a process of its own with its address space capped.

``python -m tests.hostile.zygote`` imports Django, ikstorage, boto3, moto
and Pillow once, then reads jobs from stdin, one JSON line each, and forks a
child per job: the child caps its address space (``RLIMIT_AS``), starts
moto's S3 in-process (``mock_aws``), saves the file as an upload is saved
(or, with ``"legacy"``, puts it in the bucket behind ikstorage's back and
asks for its rendition ``"spec"``, a first thumbnail view), and reports;
the zygote prints the report as one JSON line on stdout. A forked child
starts with the zygote's resident pages, so its peak resident set
(``VmHWM``) is what a fresh process that imported the same would show, and
it is this one file's: no other save ran in that process. Forking saves
the half second of imports per file that a new interpreter would cost.

A child that runs past the job's ``timeout`` is killed and reported as such;
one that dies (a signal, a crash in a decoder) is reported with its status.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import resource
import select
import signal
import sys
import time
import traceback
from typing import Any


def status_kib(field: str) -> int:
    """A size from ``/proc/self/status`` in KiB: ``VmHWM`` (peak resident), ``VmPeak`` (mapped)."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def prepare() -> None:
    """Everything a save imports, imported once, before any fork."""
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ[key] = "testing"
    os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
    import django
    from django.conf import settings

    settings.configure(
        INSTALLED_APPS=["ikstorage"],
        CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
        USE_TZ=True,
    )
    django.setup()
    import boto3  # noqa: F401
    import moto  # noqa: F401
    import storages.backends.s3  # noqa: F401
    from PIL import Image

    import ikstorage.storage  # noqa: F401

    Image.init()


def save(job: dict[str, Any]) -> dict[str, Any]:
    """In the child: the save of ``job["path"]`` under ``job["name"]``, and what it cost."""
    cap = int(job["address_space"])
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    import boto3
    from django.core.files import File
    from moto import mock_aws
    from PIL import Image
    from storages.backends.s3 import S3Storage

    from ikstorage import CachedStorage

    path, name = job["path"], job["name"]
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="media")
        storage = CachedStorage(
            storage=S3Storage(bucket_name="media", querystring_auth=False), specs=job["specs"]
        )
        legacy = bool(job.get("legacy"))
        if legacy:  # put behind ikstorage's back, then shown as a thumbnail for the first time
            with open(path, "rb") as upload:
                client.put_object(Bucket="media", Key=name, Body=upload.read())
        from botocore.response import StreamingBody

        from ikstorage.profiler import count_calls

        taken = [0]  # bytes taken from S3 response bodies during the save or view
        read = StreamingBody.read

        def counted(body: StreamingBody, amt: int | None = None) -> bytes:
            data: bytes = read(body, amt)
            taken[0] += len(data)
            return data

        StreamingBody.read = counted  # type: ignore[method-assign]
        before = status_kib("VmHWM")
        with open(path, "rb") as upload, count_calls() as calls:
            started = time.perf_counter()
            if legacy:
                stored = name
                storage.rendition(name, job["spec"])
            else:
                stored = storage.save(name, File(upload, name=name))
            seconds = time.perf_counter() - started
        peak, address_space = status_kib("VmHWM"), status_kib("VmPeak")
        StreamingBody.read = read  # type: ignore[method-assign]
        body = client.get_object(Bucket="media", Key=stored)["Body"].read()
        record = storage.metadata(stored)
        shown = []
        for info in record.renditions:
            data = client.get_object(Bucket="media", Key=info.name)["Body"].read()
            with Image.open(io.BytesIO(data)) as image:
                frames = int(getattr(image, "n_frames", 1))
            shown.append([info.spec, info.format, info.width, info.height, frames])
    with open(path, "rb") as original:
        same = hashlib.sha256(original.read()).digest() == hashlib.sha256(body).digest()
    return {
        "stored": stored,
        "same_bytes": same,
        "seconds": round(seconds, 3),
        "before_kib": before,
        "peak_kib": peak,
        "address_space_kib": address_space,
        "error": record.rendition_error,
        "shown": sorted(shown),
        "gets": calls.s3.get("GetObject", 0),
        "taken": taken[0],
        "size": os.path.getsize(path),
    }


def run(job: dict[str, Any]) -> dict[str, Any]:
    """Fork, save in the child, and wait for its report (at most ``job["timeout"]`` seconds)."""
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        os.close(reader)
        code = 0
        try:
            report = save(job)
        except BaseException:
            report, code = {"crash": traceback.format_exc()}, 1
        with os.fdopen(writer, "w") as out:
            out.write(json.dumps(report))
        os._exit(code)
    os.close(writer)
    deadline = time.monotonic() + float(job["timeout"])
    text = b""
    with os.fdopen(reader, "rb") as result:
        while True:  # the report, read as it comes (a child never blocks on a full pipe)
            left = deadline - time.monotonic()
            ready, _, _ = select.select([result], [], [], max(0.0, left))
            if not ready:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                return {"timeout": job["timeout"]}
            piece = os.read(result.fileno(), 65536)
            if not piece:
                break
            text += piece
    _, status = os.waitpid(pid, 0)
    if not text:
        return {"died": os.waitstatus_to_exitcode(status)}
    report: dict[str, Any] = json.loads(text)
    return report


def main() -> None:
    prepare()
    print(json.dumps({"ready": status_kib("VmHWM")}), flush=True)
    for line in sys.stdin:
        print(json.dumps(run(json.loads(line))), flush=True)


if __name__ == "__main__":
    main()
