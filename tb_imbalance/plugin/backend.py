"""The Imbalance dashboard's TensorBoard plugin: loader and routes.

Routes (all under ``/data/plugin/imbalance/``; ``docs/http_api.md`` documents
them) only parse the request and call :class:`tb_imbalance.plugin.reader.ImbalanceData`,
which reads through ``context.data_provider``, keeps decoded series in
:mod:`tb_imbalance.plugin.cache` and builds answers with
:mod:`tb_imbalance.plugin.payloads` (every number from :mod:`tb_imbalance.core`).
Static files come from :mod:`tb_imbalance.plugin.static`. Every error (see
:mod:`tb_imbalance.plugin.errors`) is a JSON ``{"error": "..."}`` body with a
4xx/503 status, so one unreadable run never breaks the others; any other
exception is logged with its traceback and answered ``500`` with one fixed
message, never its own text.

The loader makes every logged step available: unless the user passes
``--samples_per_plugin imbalance=N``, it sets the ``imbalance`` retention to
0 (keep all) for both the Python loader and the Rust data server.

This module imports neither TensorFlow nor matplotlib, so TensorBoard starts
fast.

Example:
    >>> import json, tempfile
    >>> import tb_imbalance
    >>> from tensorboard.backend import application
    >>> from tensorboard.backend.event_processing import data_provider, plugin_event_multiplexer
    >>> from werkzeug.test import Client
    >>> logdir = tempfile.mkdtemp()
    >>> with tb_imbalance.ReportWriter(f"{logdir}/baseline") as writer:
    ...     writer.write_matrix(0, "confusion_matrix", [[50, 2], [3, 5]], ["ok", "fraud"])
    >>> multiplexer = plugin_event_multiplexer.EventMultiplexer(tensor_size_guidance={"imbalance": 0})
    >>> _ = multiplexer.AddRunsFromDirectory(logdir).Reload()
    >>> context = base_plugin.TBContext(data_provider=data_provider.MultiplexerDataProvider(multiplexer, logdir))
    >>> app = application.TensorBoardWSGI([ImbalancePluginLoader().load(context)])
    >>> json.loads(Client(app).get("/data/plugin/imbalance/runs").get_data())
    {'baseline': ['confusion_matrix']}
"""

from __future__ import annotations

import functools
import logging
import re
import urllib.parse
from typing import Any, Callable, Mapping

from tensorboard import context as tb_context
from tensorboard import plugin_util
from tensorboard.backend import http_util
from tensorboard.plugins import base_plugin
from werkzeug import wrappers

from tensorboard import errors as tb_errors

from tb_imbalance import core
from tb_imbalance import format as fmt
from tb_imbalance.plugin import cache, reader, retention, static
from tb_imbalance.plugin.errors import BadRequestError, DashboardError, shown_value
from tb_imbalance.plugin.payloads import to_json

__all__ = ["ImbalancePlugin", "ImbalancePluginLoader", "STATIC_ROUTE_PREFIX"]

logger = logging.getLogger(__name__)

#: Path (below the plugin's route prefix) under which static files are served.
STATIC_ROUTE_PREFIX = "/static/"

_JSON = "application/json"
_PNG = "image/png"
#: The whole answer to a failure nobody foresaw: its text and traceback go to TensorBoard's log, not to the client.
_INTERNAL_ERROR = "internal error in the Imbalance plugin; TensorBoard's log holds its traceback"


def _json_response(request: wrappers.Request, body: str, status: int = 200) -> wrappers.Response:
    return http_util.Respond(request, body, _JSON, code=status)


def _error_response(request: wrappers.Request, message: str, status: int) -> wrappers.Response:
    return _json_response(request, to_json({"error": message}), status)


def _route(respond: Callable[[wrappers.Request, Any], wrappers.Response]) -> Callable[..., Any]:
    """A decorator making a handler a WSGI app: ``respond`` answers its result, errors answer JSON."""

    def decorate(handler: Callable[["ImbalancePlugin", wrappers.Request], Any]) -> Callable[..., Any]:
        @functools.wraps(handler)
        @wrappers.Request.application
        def route(self: "ImbalancePlugin", request: wrappers.Request) -> wrappers.Response:
            try:
                return respond(request, handler(self, request))
            except DashboardError as error:
                return _error_response(request, error.message, error.status)
            except tb_errors.PublicError as error:
                return _error_response(request, str(error), error.http_code)
            except Exception:
                logger.exception("Imbalance route %s failed", request.path)
                return _error_response(request, _INTERNAL_ERROR, 500)

        return route

    return decorate


#: A handler returning a payload, answered as JSON.
_json_route = _route(lambda request, payload: _json_response(request, to_json(payload)))
#: A handler returning PNG bytes.
_png_route = _route(lambda request, png: http_util.Respond(request, png, _PNG))


def _arg(request: wrappers.Request, name: str) -> str | None:
    """The one value of query parameter ``name`` (None when absent); 400 when it is given twice or more."""
    try:
        values = request.args.getlist(name)
    except UnicodeDecodeError:  # werkzeug decodes the raw query as UTF-8 (percent-escapes it tolerates)
        raise _not_utf8(request.query_string) from None
    if len(values) > 1:
        shown = ", ".join(shown_value(value) for value in values[:3]) + (", …" if len(values) > 3 else "")
        raise BadRequestError(
            f"query parameter `{name}` was given {len(values)} times ({shown}); give it once"
        )
    return values[0] if values else None


def _not_utf8(query: bytes) -> BadRequestError:
    """A 400 naming the first query parameter whose raw bytes are not UTF-8 (browsers percent-encode them)."""
    for pair in query.split(b"&"):
        try:
            pair.decode("utf-8")
        except UnicodeDecodeError:
            name, _, value = (
                urllib.parse.unquote_to_bytes(part.replace(b"+", b" ")).decode("utf-8", "backslashreplace")
                for part in pair.partition(b"=")
            )
            return BadRequestError(
                f"query parameter `{name[:40]}` must be UTF-8 text with its bytes percent-encoded (as "
                f"encodeURIComponent writes it), received {shown_value(value)}"
            )
    return BadRequestError("the query string must be UTF-8 text with its bytes percent-encoded")


#: What a required query parameter holds, for the message when it is missing.
_REQUIRED_VALUES = {
    "run": "one of the runs the `runs` route lists",
    "tag": "one of the run's tags the `runs` route lists",
    "baseline": "the run to compare with, one of the runs the `runs` route lists",
    "class": "a class index, 0 for the first class",
    "true": "the cell's true class index, 0 for the first class",
    "pred": "the cell's predicted class index, 0 for the first class",
    "index": "a thumbnail's position (1 or more), as in the `image` URL of an example from the `examples` route",
}


def _missing(name: str) -> BadRequestError:
    return BadRequestError(f"missing query parameter `{name}`; pass `{name}=`, {_REQUIRED_VALUES[name]}")


def _required(request: wrappers.Request, name: str) -> str:
    value = _arg(request, name)
    if value is None:
        raise _missing(name)
    return value


# ASCII digits only: int() would also take " 2", "1_0" and other scripts' digits. A step is an int64,
# whose largest, 2**63 - 1, has 19 digits: a longer number is out of range (leading zeros aside).
_INTEGER = re.compile(r"-?[0-9]+")
_INT64_MAX = 2**63 - 1


def _integer(value: str, what: str) -> int:
    """``value`` as an int; the routes say what a number out of range means for them."""
    if not _INTEGER.fullmatch(value):
        raise BadRequestError(f"{what} must be an integer, received {shown_value(value)}")
    digits = value.lstrip("-").lstrip("0") or "0"  # counted before int(): it refuses over 4300 digits
    if digits == "0" and value.startswith("-"):  # int("-0") is 0: `classes=-0` passed as the first class
        raise BadRequestError(f"{what} must be written 0, without a sign, received {shown_value(value)}")
    if len(digits) > 19 or int(digits) > _INT64_MAX:
        raise BadRequestError(f"{what} must be an integer within ±(2**63 - 1) (int64), received {shown_value(value)}")
    return -int(digits) if value.startswith("-") else int(digits)


#: What leaving out an optional query parameter means, for the message when it is given empty.
_OMITTED = {"step": "the latest", "baseline_step": "the baseline's latest", "group": "the per-class report",
            "many": f"its default, {core.MANY_SHOT_MIN}", "few": f"its default, {core.FEW_SHOT_MAX}"}


def _empty(name: str, rule: str) -> BadRequestError:
    """A 400 for ``name=`` given empty: an empty value is no value, and leaving it out is the way to omit it."""
    return BadRequestError(
        f"query parameter `{name}` must be {rule}, received ''; leave `{name}` out for {_OMITTED[name]}"
    )


def _optional_int(request: wrappers.Request, name: str) -> int | None:
    value = _arg(request, name)
    if value == "":
        raise _empty(name, "an integer")
    return None if value is None else _integer(value, f"query parameter `{name}`")


def _required_int(request: wrappers.Request, name: str) -> int:
    value = _required(request, name)
    if value == "":
        raise BadRequestError(f"query parameter `{name}` must be {_REQUIRED_VALUES[name]}, received ''")
    return _integer(value, f"query parameter `{name}`")


def _shot_thresholds(request: wrappers.Request) -> tuple[int, int]:
    """The long-tail thresholds ``many`` and ``few`` (absent: core's defaults), ``few < many``."""
    many, few = _optional_int(request, "many"), _optional_int(request, "few")
    try:
        return core.validate_shot_thresholds(many, few, prefix="query parameter ")
    except ValueError as error:
        raise BadRequestError(str(error)) from None


def _optional_flag(request: wrappers.Request, name: str) -> bool:
    value = _arg(request, name)
    if value is None:
        return False
    if value == "":
        raise _empty(name, "1 or 0 (or true / false)")
    if value in ("1", "true"):  # the spellings documented, no others: `TRUE` was never said to work
        return True
    if value in ("0", "false"):
        return False
    raise BadRequestError(f"query parameter `{name}` must be 1 or 0 (or true / false), received {shown_value(value)}")


def _class_indices(request: wrappers.Request) -> list[int] | None:
    value = _arg(request, "classes")
    if value is None:
        return None
    if not all(_INTEGER.fullmatch(part) for part in value.split(",")):
        raise BadRequestError(
            "query parameter `classes` must be comma-separated class indices such as "
            f"`0,5,7`, received {shown_value(value)}"
        )
    indices = [_integer(part, "query parameter `classes`") for part in value.split(",")]  # int() refuses 4300+ digits
    seen: set[int] = set()
    for index in indices:  # a repeated index would only repeat columns: 30,000 of them from a 60 KB URL
        if index in seen:
            raise BadRequestError(f"query parameter `classes` must list each class once, received {index} twice")
        seen.add(index)
    return indices


class ImbalancePlugin(base_plugin.TBPlugin):
    """Serves the Imbalance dashboard: classification reports from confusion matrices.

    Args:
        context: the ``base_plugin.TBContext`` TensorBoard passes to loaders.
        cache_bytes: memory bound of the decoded-matrix cache.
        static_dir: folder holding ``index.js`` and its modules; found with
            :func:`tb_imbalance.plugin.static.find_static_dir` when None.

    Example:
        >>> plugin = ImbalancePlugin(base_plugin.TBContext(data_provider=None))
        >>> sorted(plugin.get_plugin_apps())
        ['/compare', '/curves', '/example_image', '/examples', '/index.js', '/report', '/runs', '/series', '/static/*']
    """

    plugin_name = fmt.PLUGIN_NAME

    def __init__(
        self,
        context: base_plugin.TBContext,
        *,
        cache_bytes: int = cache.DEFAULT_CACHE_BYTES,
        static_dir: Any = None,
    ):
        self._data = reader.ImbalanceData(
            context.data_provider, cache=cache.SeriesCache(max_bytes=cache_bytes)
        )
        self._static_dir = static_dir if static_dir is not None else static.find_static_dir()

    def get_plugin_apps(self) -> dict[str, Callable[..., Any]]:
        """Map each route (below ``/data/plugin/imbalance``) to its WSGI app."""
        return {
            "/runs": self._serve_runs,
            "/report": self._serve_report,
            "/series": self._serve_series,
            "/compare": self._serve_compare,
            "/curves": self._serve_curves,
            "/examples": self._serve_examples,
            "/example_image": self._serve_example_image,
            "/index.js": self._serve_index,
            STATIC_ROUTE_PREFIX + "*": self._serve_static,
        }

    def is_active(self) -> bool:
        """Whether any run holds ``imbalance`` summaries (asked of the data provider)."""
        return self._data.has_data(tb_context.RequestContext(), "")

    def data_plugin_names(self) -> tuple[str, ...]:
        """The summary plugin names this dashboard reads: ``("imbalance",)``."""
        return (fmt.PLUGIN_NAME,)

    def frontend_metadata(self) -> base_plugin.FrontendMetadata:
        """An iframed ES module dashboard, in a tab named "Imbalance"."""
        return base_plugin.FrontendMetadata(es_module_path="/index.js", tab_name="Imbalance")

    @_json_route
    def _serve_runs(self, request: wrappers.Request) -> Mapping[str, Any]:
        return self._data.runs(*_experiment(request))

    @_json_route
    def _serve_report(self, request: wrappers.Request) -> Mapping[str, Any]:
        where = _run_and_tag(request)
        step = _optional_int(request, "step")
        many, few = _shot_thresholds(request)
        group = _optional_flag(request, "group")
        return self._data.report(*where, step, many=many, few=few, group=group)

    @_json_route
    def _serve_series(self, request: wrappers.Request) -> Mapping[str, Any]:
        where = _run_and_tag(request)
        return self._data.series(*where, _class_indices(request))

    @_json_route
    def _serve_compare(self, request: wrappers.Request) -> Mapping[str, Any]:
        where = _run_and_tag(request)
        baseline = _required(request, "baseline")
        step = _optional_int(request, "step")
        baseline_step = _optional_int(request, "baseline_step")
        return self._data.compare(*where, step, baseline, baseline_step)

    @_json_route
    def _serve_curves(self, request: wrappers.Request) -> Mapping[str, Any]:
        where = _run_and_tag(request)
        step = _optional_int(request, "step")
        return self._data.curves(*where, step, _required_int(request, "class"))

    @_json_route
    def _serve_examples(self, request: wrappers.Request) -> Mapping[str, Any]:
        where = _run_and_tag(request)
        step = _optional_int(request, "step")
        true = _required_int(request, "true")
        pred = _required_int(request, "pred")
        return self._data.examples(*where, step, true, pred)

    @_png_route
    def _serve_example_image(self, request: wrappers.Request) -> bytes:
        where = _run_and_tag(request)
        step = _optional_int(request, "step")
        index = _required_int(request, "index")
        if index < 1:  # 0 is the step's JSON index: no value below 1 names a thumbnail
            raise BadRequestError(f"query parameter `index` must be {_REQUIRED_VALUES['index']}, received {index}")
        return self._data.example_image(*where, step, index)

    @wrappers.Request.application
    def _serve_index(self, request: wrappers.Request) -> wrappers.Response:
        return self._static_response(request, "index.js")

    @wrappers.Request.application
    def _serve_static(self, request: wrappers.Request) -> wrappers.Response:
        marker = f"/{fmt.PLUGIN_NAME}{STATIC_ROUTE_PREFIX}"
        path = request.path
        if marker not in path:
            return _error_response(request, f"no static file {path!r}", 404)
        return self._static_response(request, path.split(marker, 1)[1])

    def _static_response(self, request: wrappers.Request, relative_path: str) -> wrappers.Response:
        try:
            content, content_type = static.read_static_file(self._static_dir, relative_path)
        except DashboardError as error:
            return _error_response(request, error.message, error.status)
        return http_util.Respond(request, content, content_type)


def _experiment(request: wrappers.Request) -> tuple[Any, str]:
    """TensorBoard's request context and experiment id of ``request``."""
    return plugin_util.context(request.environ), plugin_util.experiment_id(request.environ)


def _run_and_tag(request: wrappers.Request) -> tuple[Any, str, str, str]:
    """``(context, experiment id, run, tag)`` of a request about one run and tag (400 without them)."""
    run = _required(request, "run")
    tag = _required(request, "tag")
    return (*_experiment(request), run, tag)


class ImbalancePluginLoader(base_plugin.TBLoader):
    """Loads :class:`ImbalancePlugin`; keeps every logged step unless told otherwise.

    TensorBoard keeps only 10 (Python loader) or 100 (data server) points of
    a third-party tensor series by default. :meth:`fix_flags` sets
    ``samples_per_plugin["imbalance"] = 0`` (keep all) unless the user chose
    a value.

    Example:
        >>> import argparse
        >>> flags = argparse.Namespace(samples_per_plugin={})
        >>> ImbalancePluginLoader().fix_flags(flags)
        >>> flags.samples_per_plugin
        {'imbalance': 0}
    """

    def fix_flags(self, flags: Any) -> None:
        """Default the ``imbalance`` retention to "keep all steps".

        Args:
            flags: the parsed TensorBoard flags (``argparse.Namespace``);
                ``samples_per_plugin`` may be a dict (parsed from the command
                line) or a string (passed to ``TensorBoard.configure``). It is
                left as a dict.

        Raises:
            base_plugin.FlagsError: ``samples_per_plugin`` is malformed, or
                its ``imbalance`` count is not a count of 0 or more.
        """
        flags.samples_per_plugin = retention.with_every_step_kept(getattr(flags, "samples_per_plugin", None))

    def load(self, context: base_plugin.TBContext) -> ImbalancePlugin:
        """Build the plugin for TensorBoard's ``context``."""
        return ImbalancePlugin(context)
