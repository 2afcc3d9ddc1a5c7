"""A TFLite model (one subgraph) written with the `tflite` package's generated flatbuffer builders.

Tensors and operators are collected first; `finish()` writes them bottom-up (vectors and tables before the
tables that point at them, as flatbuffers requires) and returns the file's bytes. The batch dim is 1 in
`shape` and -1 in `shape_signature`, as TF's converter writes a dynamic batch; the interpreter's
resize_tensor_input sets it."""
from __future__ import annotations

from dataclasses import dataclass

import flatbuffers
import numpy as np
import tflite

SCHEMA_VERSION = 3
TYPES = {np.dtype(np.float32): tflite.TensorType.FLOAT32, np.dtype(np.float16): tflite.TensorType.FLOAT16,
         np.dtype(np.int32): tflite.TensorType.INT32, np.dtype(np.int64): tflite.TensorType.INT64,
         np.dtype(np.int8): tflite.TensorType.INT8, np.dtype(np.uint8): tflite.TensorType.UINT8,
         np.dtype(np.int16): tflite.TensorType.INT16, np.dtype(np.uint32): tflite.TensorType.UINT32}
_BUFFER_ALIGNMENT = 16  # constant data starts on 16 bytes, as TF's converter aligns it (SIMD loads)


@dataclass
class _Tensor:
    name: str
    shape: tuple
    dtype: np.dtype
    data: np.ndarray = None
    scale: np.ndarray = None       # quantization: float32 per tensor (1 value) or per channel
    zero_point: np.ndarray = None  # int64, as many as scale
    axis: int = 0                  # the channel axis of per-channel parameters


@dataclass
class _Operator:
    code: int
    version: int
    inputs: list
    outputs: list
    options_type: int
    options: object   # fn(builder) → offset of the options table, or None


def _vector(builder, start, values, prepend):
    start(builder, len(values))
    for v in reversed(values):
        prepend(v)
    return builder.EndVector()


class ModelWriter:
    def __init__(self, description="gpuflow"):
        self.description = description
        self.tensors, self.operators = [], []
        self._by_name = {}

    # ---------------------------------------------------------------- collecting
    def tensor(self, name, shape, dtype, data=None, scale=None, zero_point=None, axis=0):
        """Adds a tensor (a constant when `data` is given); returns its index. `shape` may hold None (dynamic)."""
        if name in self._by_name:
            raise AssertionError(f"tensor {name!r} added twice")
        dtype = np.dtype(dtype)
        if data is not None:
            data = np.ascontiguousarray(data, dtype)
        if scale is not None:
            scale = np.atleast_1d(np.asarray(scale, np.float32))
            zero_point = np.atleast_1d(np.asarray(zero_point if zero_point is not None else 0, np.int64))
            zero_point = np.broadcast_to(zero_point, scale.shape)
        self.tensors.append(_Tensor(name, tuple(shape), dtype, data, scale, zero_point, axis))
        self._by_name[name] = len(self.tensors) - 1
        return len(self.tensors) - 1

    def rename(self, index, name):
        del self._by_name[self.tensors[index].name]
        self.tensors[index].name = name
        self._by_name[name] = index

    def quantization(self, index):
        t = self.tensors[index]
        return t.scale, t.zero_point

    def operator(self, code, inputs, outputs, options_type=0, options=None, version=1):
        self.operators.append(_Operator(code, version, list(inputs), list(outputs), options_type, options))

    # ---------------------------------------------------------------- writing
    def finish(self, inputs, outputs, signature_key="serving_default"):
        b = flatbuffers.Builder(1024)
        codes = sorted({(op.code, op.version) for op in self.operators})
        code_index = {c: i for i, c in enumerate(codes)}
        buffers, buffer_of = self._buffers(b)
        tensors = [self._write_tensor(b, t, buffer_of[i]) for i, t in enumerate(self.tensors)]
        operators = [self._write_operator(b, op, code_index[(op.code, op.version)]) for op in self.operators]
        name = b.CreateString("main")
        t_vec = _vector(b, tflite.SubGraphStartTensorsVector, tensors, b.PrependUOffsetTRelative)
        in_vec = _vector(b, tflite.SubGraphStartInputsVector, inputs, b.PrependInt32)
        out_vec = _vector(b, tflite.SubGraphStartOutputsVector, outputs, b.PrependInt32)
        op_vec = _vector(b, tflite.SubGraphStartOperatorsVector, operators, b.PrependUOffsetTRelative)
        tflite.SubGraphStart(b)
        tflite.SubGraphAddTensors(b, t_vec)
        tflite.SubGraphAddInputs(b, in_vec)
        tflite.SubGraphAddOutputs(b, out_vec)
        tflite.SubGraphAddOperators(b, op_vec)
        tflite.SubGraphAddName(b, name)
        subgraph = tflite.SubGraphEnd(b)
        code_tables = []
        for code, version in codes:
            tflite.OperatorCodeStart(b)
            tflite.OperatorCodeAddDeprecatedBuiltinCode(b, min(code, 127))  # 127: "see builtin_code"
            tflite.OperatorCodeAddBuiltinCode(b, code)
            tflite.OperatorCodeAddVersion(b, version)
            code_tables.append(tflite.OperatorCodeEnd(b))
        signature = self._signature(b, inputs, outputs, signature_key)
        description = b.CreateString(self.description)
        codes_vec = _vector(b, tflite.ModelStartOperatorCodesVector, code_tables, b.PrependUOffsetTRelative)
        subgraphs_vec = _vector(b, tflite.ModelStartSubgraphsVector, [subgraph], b.PrependUOffsetTRelative)
        buffers_vec = _vector(b, tflite.ModelStartBuffersVector, buffers, b.PrependUOffsetTRelative)
        signatures_vec = _vector(b, tflite.ModelStartSignatureDefsVector, [signature], b.PrependUOffsetTRelative)
        tflite.ModelStart(b)
        tflite.ModelAddVersion(b, SCHEMA_VERSION)
        tflite.ModelAddOperatorCodes(b, codes_vec)
        tflite.ModelAddSubgraphs(b, subgraphs_vec)
        tflite.ModelAddDescription(b, description)
        tflite.ModelAddBuffers(b, buffers_vec)
        tflite.ModelAddSignatureDefs(b, signatures_vec)
        b.Finish(tflite.ModelEnd(b), file_identifier=b"TFL3")
        return bytes(b.Output())

    def _buffers(self, b):
        """Buffer 0 is the empty one every schema-3 model starts with, shared by every tensor that is not a
        constant; each constant has a buffer of its own. Returns the Buffer tables and each tensor's buffer."""
        tables, buffer_of = [], []
        tflite.BufferStart(b)
        tables.append(tflite.BufferEnd(b))
        for t in self.tensors:
            if t.data is None:
                buffer_of.append(0)
                continue
            b.Prep(_BUFFER_ALIGNMENT, t.data.nbytes)
            data = b.CreateNumpyVector(t.data.reshape(-1).view(np.uint8))
            tflite.BufferStart(b)
            tflite.BufferAddData(b, data)
            tables.append(tflite.BufferEnd(b))
            buffer_of.append(len(tables) - 1)
        return tables, buffer_of

    def _write_tensor(self, b, t, buffer):
        static = [1 if d is None else int(d) for d in t.shape]
        signature = [-1 if d is None else int(d) for d in t.shape]
        shape = _vector(b, tflite.TensorStartShapeVector, static, b.PrependInt32)
        shape_signature = _vector(b, tflite.TensorStartShapeSignatureVector, signature, b.PrependInt32) \
            if None in t.shape else None
        quant = self._write_quantization(b, t) if t.scale is not None else None
        name = b.CreateString(t.name)
        tflite.TensorStart(b)
        tflite.TensorAddShape(b, shape)
        if shape_signature is not None:
            tflite.TensorAddShapeSignature(b, shape_signature)
        tflite.TensorAddType(b, TYPES[t.dtype])
        tflite.TensorAddBuffer(b, buffer)
        tflite.TensorAddName(b, name)
        if quant is not None:
            tflite.TensorAddQuantization(b, quant)
        return tflite.TensorEnd(b)

    @staticmethod
    def _write_quantization(b, t):
        scale = _vector(b, tflite.QuantizationParametersStartScaleVector, [float(s) for s in t.scale],
                        b.PrependFloat32)
        zero_point = _vector(b, tflite.QuantizationParametersStartZeroPointVector,
                             [int(z) for z in t.zero_point], b.PrependInt64)
        tflite.QuantizationParametersStart(b)
        tflite.QuantizationParametersAddScale(b, scale)
        tflite.QuantizationParametersAddZeroPoint(b, zero_point)
        tflite.QuantizationParametersAddQuantizedDimension(b, t.axis)
        return tflite.QuantizationParametersEnd(b)

    @staticmethod
    def _write_operator(b, op, code_index):
        options = op.options(b) if op.options is not None else None
        ins = _vector(b, tflite.OperatorStartInputsVector, op.inputs, b.PrependInt32)
        outs = _vector(b, tflite.OperatorStartOutputsVector, op.outputs, b.PrependInt32)
        tflite.OperatorStart(b)
        tflite.OperatorAddOpcodeIndex(b, code_index)
        tflite.OperatorAddInputs(b, ins)
        tflite.OperatorAddOutputs(b, outs)
        if options is not None:
            tflite.OperatorAddBuiltinOptionsType(b, op.options_type)
            tflite.OperatorAddBuiltinOptions(b, options)
        return tflite.OperatorEnd(b)

    def _signature(self, b, inputs, outputs, key):
        """A SignatureDef naming each input and output tensor by its own name, as TF's converter does, so
        interpreter.get_signature_runner() works."""
        def tensor_maps(indices):
            maps = []
            for i in indices:
                name = b.CreateString(self.tensors[i].name)
                tflite.TensorMapStart(b)
                tflite.TensorMapAddName(b, name)
                tflite.TensorMapAddTensorIndex(b, i)
                maps.append(tflite.TensorMapEnd(b))
            return maps
        in_maps, out_maps = tensor_maps(inputs), tensor_maps(outputs)
        in_vec = _vector(b, tflite.SignatureDefStartInputsVector, in_maps, b.PrependUOffsetTRelative)
        out_vec = _vector(b, tflite.SignatureDefStartOutputsVector, out_maps, b.PrependUOffsetTRelative)
        key = b.CreateString(key)
        tflite.SignatureDefStart(b)
        tflite.SignatureDefAddInputs(b, in_vec)
        tflite.SignatureDefAddOutputs(b, out_vec)
        tflite.SignatureDefAddSignatureKey(b, key)
        tflite.SignatureDefAddSubgraphIndex(b, 0)
        return tflite.SignatureDefEnd(b)
