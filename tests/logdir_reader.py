"""Read a logdir back through TensorBoard's own Python loader, for assertions."""

from tb_imbalance import format as fmt
from tensorboard import context
from tensorboard.backend.event_processing import data_provider, plugin_event_multiplexer


def load(logdir):
    """A data provider over ``logdir`` that keeps every step of every series."""
    multiplexer = plugin_event_multiplexer.EventMultiplexer(
        size_guidance={"tensors": 0, "scalars": 0, "images": 0}
    )
    multiplexer.AddRunsFromDirectory(str(logdir))
    multiplexer.Reload()
    return data_provider.MultiplexerDataProvider(multiplexer, str(logdir))


def run_tag_pairs(logdir):
    """Every (run, tag) pair written, across scalars, tensors and images."""
    provider, ctx = load(logdir), context.RequestContext()
    pairs = set()
    for plugin in provider.list_plugins(ctx, experiment_id=""):
        for lister in (provider.list_scalars, provider.list_tensors, provider.list_blob_sequences):
            try:
                listing = lister(ctx, experiment_id="", plugin_name=plugin)
            except Exception:
                continue
            pairs |= {(run, tag) for run, tags in listing.items() for tag in tags}
    return pairs


def matrices(logdir, tag="confusion_matrix"):
    """``{run: {step: [C, C] ndarray}}`` of the confusion matrices logged as ``tag``."""
    provider, ctx = load(logdir), context.RequestContext()
    listing = provider.list_tensors(ctx, experiment_id="", plugin_name="imbalance")
    data = provider.read_tensors(ctx, experiment_id="", plugin_name="imbalance", downsample=10**6)
    result = {}
    for run, tags in data.items():
        if tag in tags:
            info = fmt.parse_plugin_content(listing[run][tag].plugin_content)
            result[run] = {d.step: fmt.decode_matrix(d.numpy, info) for d in tags[tag]}
    return result


def scalars(logdir, run, tag):
    """``{step: value}`` of one scalar series."""
    provider, ctx = load(logdir), context.RequestContext()
    data = provider.read_scalars(ctx, experiment_id="", plugin_name="scalars", downsample=10**6, run_tag_filter=None)
    return {d.step: d.value for d in data[run][tag]}


def plugin_content(logdir, run, tag="confusion_matrix"):
    provider, ctx = load(logdir), context.RequestContext()
    return provider.list_tensors(ctx, experiment_id="", plugin_name="imbalance")[run][tag].plugin_content


def examples(logdir, tag="confusion_matrix"):
    """``{run: {step: (index, thumbnails)}}`` of the examples logged for matrix ``tag``."""
    provider, ctx = load(logdir), context.RequestContext()
    sequences = provider.read_blob_sequences(ctx, experiment_id="", plugin_name="imbalance", downsample=10**6)
    result = {}
    for run, tags in sequences.items():
        if fmt.examples_tag(tag) not in tags:
            continue
        result[run] = {}
        for datum in tags[fmt.examples_tag(tag)]:
            blobs = [provider.read_blob(ctx, blob_key=ref.blob_key) for ref in datum.values]
            result[run][datum.step] = (fmt.decode_examples_index(blobs[0]), blobs[1:])
    return result


def curves(logdir, tag="confusion_matrix"):
    """``{run: {step: [C + 1, 3, B] ndarray}}`` of the curve summaries logged for matrix ``tag``."""
    provider, ctx = load(logdir), context.RequestContext()
    matrices = provider.list_tensors(ctx, experiment_id="", plugin_name="imbalance")
    listing = provider.list_blob_sequences(ctx, experiment_id="", plugin_name="imbalance")
    sequences = provider.read_blob_sequences(ctx, experiment_id="", plugin_name="imbalance", downsample=10**6)
    result = {}
    for run, tags in sequences.items():
        if fmt.curves_tag(tag) not in tags:
            continue
        num_classes = fmt.parse_plugin_content(matrices[run][tag].plugin_content).num_classes
        info = fmt.parse_curves_content(listing[run][fmt.curves_tag(tag)].plugin_content)
        result[run] = {
            datum.step: fmt.decode_curves(provider.read_blob(ctx, blob_key=datum.values[0].blob_key), info, num_classes)
            for datum in tags[fmt.curves_tag(tag)]
        }
    return result
