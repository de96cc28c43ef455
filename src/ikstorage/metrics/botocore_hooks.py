"""Count S3 calls at the botocore layer, for every client in the process.

botocore announces each step of a call through its event system, and every
client carries its own *copy* of its session's handlers, made when the client
is created. So a handler has to reach three kinds of emitter:

* sessions created later: an entry appended to ``botocore.handlers.BUILTIN_HANDLERS``,
  which every new ``botocore.session.Session`` registers on creation;
* sessions that already exist (their future clients copy their handlers), and
* clients that already exist: both are found once, on first use, by scanning
  ``gc.get_objects()``. botocore keeps no registry of its sessions or clients,
  and the scan is public API; it costs about 0.2 s per million live objects,
  once per process.

No private hook is used. Each emitter answers the custom event
``ikstorage-profiler.installed`` once our handlers are on it, so the scan never
registers them twice. The handlers stay installed for the life of the process
and return at once when no recorder is active.

The events (all public, documented in botocore's event reference):

* ``before-call.s3.<Op>``: one per API call, after parameter validation and
  before any HTTP attempt. The first handler to answer it ends the event, and
  botocore runs the most deeply nested pattern first, so ours sits first on
  ``before-call.*.*`` (filtering for S3 itself): a ``Stubber`` answering the
  call cannot hide it.
* ``needs-retry.s3.<Op>``: one per HTTP attempt, with the response; a retry is
  an attempt numbered 2 or more. Bytes downloaded come from here.
* ``before-parameter-build.s3.<Op>``: also fires for ``generate_presigned_url``
  and ``generate_presigned_post``, which mark their context with
  ``is_presign_request``; those are counted as presigned, not as calls.
"""

from __future__ import annotations

import gc
import threading
from typing import Any

import botocore.client
import botocore.handlers
import botocore.session

from ikstorage.metrics.recorders import recorders

MARKER_EVENT = "ikstorage-profiler.installed"
_UNIQUE_ID = "ikstorage-profiler"
# Bodies that carry no bytes even when a Content-Length header is present.
_NO_BODY_STATUS = frozenset({204, 304})

_install_lock = threading.Lock()
_installed = False


def _on_before_call(model: Any, **kwargs: Any) -> None:
    if recorders.current and model.service_model.service_name == "s3":
        for recorder in recorders.current:
            recorder.record_s3_call(model.name)


def _on_before_parameter_build(model: Any, context: Any = None, **kwargs: Any) -> None:
    if recorders.current and context and context.get("is_presign_request"):
        # A presigned POST is built on the CreateBucket model; S3 calls the
        # browser upload it authorises PostObject.
        name = "PostObject" if model.name == "CreateBucket" else model.name
        for recorder in recorders.current:
            recorder.record_presign(name)


def _on_needs_retry(operation: Any, attempts: int, response: Any = None, **kwargs: Any) -> None:
    if not recorders.current:
        return
    nbytes = _body_bytes(operation, response[0] if response else None)
    for recorder in recorders.current:
        recorder.record_attempt(operation.name, attempts, nbytes)


def _on_marker(**kwargs: Any) -> bool:
    return True


def _body_bytes(operation: Any, http_response: Any) -> int:
    """Bytes of the response body the server sent, from its headers.

    ``Content-Length`` is the length of the body actually sent: for a ranged
    GET (206) that is the range, not the object. A HEAD response carries the
    object's length in the same header but sends no body, so it counts zero.
    """
    if http_response is None:
        return 0
    if operation.http.get("method") == "HEAD" or http_response.status_code in _NO_BODY_STATUS:
        return 0
    length = http_response.headers.get("Content-Length")
    if length is not None and length.isdigit():
        return int(length)
    if operation.has_streaming_output:
        # A chunked stream without a length: counting it would mean reading it.
        return 0
    return len(http_response.content)  # already read and cached by botocore


_HANDLERS = (
    ("before-call.*.*", _on_before_call, botocore.handlers.REGISTER_FIRST),
    ("before-parameter-build.s3", _on_before_parameter_build, None),
    ("needs-retry.s3", _on_needs_retry, botocore.handlers.REGISTER_FIRST),
    (MARKER_EVENT, _on_marker, None),
)


def _register(emitter: Any) -> None:
    """Put our handlers on one emitter unless they are already there."""
    if emitter.emit_until_response(MARKER_EVENT)[1]:
        return
    for event, handler, where in _HANDLERS:
        register = emitter.register_first if where is not None else emitter.register
        register(event, handler, unique_id=f"{_UNIQUE_ID}:{event}")


def install() -> None:
    """Hook every botocore session and client, present and future. Idempotent."""
    global _installed
    if _installed:
        return
    with _install_lock:
        if _installed:
            return
        # Future sessions first, so none created during the scan is missed;
        # the marker keeps the scan from hooking those a second time.
        for event, handler, where in _HANDLERS:
            spec = (event, handler) if where is None else (event, handler, where)
            botocore.handlers.BUILTIN_HANDLERS.append(spec)
        # type(), not isinstance(): isinstance would ask each object for its
        # __class__, which raises on dead weak proxies and evaluates lazy
        # objects such as django.conf.settings.
        for obj in gc.get_objects():
            kind = type(obj)
            try:
                if issubclass(kind, botocore.session.Session):
                    _register(obj.get_component("event_emitter"))
                elif (
                    issubclass(kind, botocore.client.BaseClient)
                    and obj.meta.service_model.service_name == "s3"
                ):
                    _register(obj.meta.events)
            except AttributeError:
                # Still being built by another thread (no components or meta yet):
                # it gets the handlers from BUILTIN_HANDLERS, appended above.
                continue
        _installed = True
