"""Hostile checkpoints: files crafted to crash numpy, to poison mmengine's
``HistoryBuffer`` class, to expand into huge tensors or whose records were
damaged are refused with one line naming the file, at every entry point;
the genuine edge cases (empty arrays, ``b''``, big-endian and Fortran
arrays, numpy scalars) load with their values.

Every case that crashed or poisoned the process before the fix is loaded in
a fresh process, so that a segfault fails the test instead of pytest.
"""
import collections
import io
import json
import os.path as osp
import pickle
import zipfile

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer

from mmmaskformer.errors import CheckpointError
from mmmaskformer.utils.checkpoint import checkpoint_problem, safe_load
from mmmaskformer.utils.zip_records import MAX_INFLATED_ENV

_RECONSTRUCT = np.zeros(0).__reduce__()[0]  # numpy's _reconstruct
_SCALAR = np.float64(0).__reduce__()[0]  # numpy's scalar


class ForgedDType:
    """A dtype whose pickled state claims a field (by default an object
    field at offset 0) with forged flags: NPY_ITEM_REFCOUNT without
    NPY_LIST_PICKLE, so numpy takes raw bytes for the object slot and
    ``Py_DECREF``s them when the array is freed."""

    def __init__(self, code='V8', field='O'):
        self.code, self.field = code, field

    def __reduce__(self):
        return (np.dtype, (self.code, False, True),
                (3, '|', None, ('a', ), {'a': (np.dtype(self.field), 0)}, 8,
                 1, 1))


class ForgedArray:
    """One element of a ForgedDType whose 8 raw bytes are the pointer
    0x4141414141414141: loading it and letting it go is a segfault."""

    def __init__(self, code='V8', field='O'):
        self.dtype = ForgedDType(code, field)

    def __reduce__(self):
        return (_RECONSTRUCT, (np.ndarray, (0, ), b'b'),
                (1, (1, ), self.dtype, False, b'A' * 8))


class ForgedScalar:

    def __reduce__(self):
        return (_SCALAR, (ForgedDType(), b'A' * 8))


def rebinding_history_buffer_pth(path, **extra) -> str:
    """A message-hub buffer whose state maps 'mean' to HistoryBuffer.max:
    mmengine's ``__setstate__`` writes that into the class-wide dict."""
    state = dict(max_length=10, _log_history=np.array([1.0, 3.0]),
                 _count_history=np.array([1, 1]),
                 statistics_methods={'mean': HistoryBuffer.max}, **extra)
    original = HistoryBuffer.__getstate__
    HistoryBuffer.__getstate__ = lambda self: state
    try:
        torch.save({'message_hub': {'log_scalars': {
            'loss': HistoryBuffer()}}}, str(path))
    finally:
        HistoryBuffer.__getstate__ = original
    return str(path)


def crafted_pth(path, value) -> str:
    torch.save({'state_dict': {}, 'meta': {'x': value}}, str(path))
    return str(path)


def crafted_pkl(path, value) -> str:
    with open(path, 'wb') as f:
        pickle.dump({'model': {'w': value}}, f)
    return str(path)


#: loads each file given; prints one JSON line per file, then whether
#: HistoryBuffer's class-wide statistics still compute a mean
_LOAD_EACH = r'''
import json, sys
from mmengine.logging import HistoryBuffer
from mmmaskformer.converters.io import load_restricted_pickle
from mmmaskformer.utils.checkpoint import safe_load
for path in sys.argv[1:]:
    try:
        (load_restricted_pickle if path.endswith('.pkl') else safe_load)(path)
        print(json.dumps([path, 'loaded', '']), flush=True)
    except Exception as e:
        print(json.dumps([path, type(e).__name__, str(e)]), flush=True)
print(json.dumps(['mean', float(HistoryBuffer([1.0, 3.0], [1, 1]).mean()),
                  '']))
'''


def load_each_in_fresh_process(run_tool, paths):
    out = run_tool(['-c', _LOAD_EACH] + list(paths))
    rows = [json.loads(line) for line in out.splitlines()
            if line.startswith('["')]
    results = {path: (kind, msg) for path, kind, msg in rows}
    return results


@pytest.mark.slow
def test_forged_numpy_and_history_buffer_states_are_refused(
        tmp_path, run_tool):
    forged = {
        crafted_pth(tmp_path / 'void_object.pth', ForgedArray('V8')):
        "dtype('V8'",
        crafted_pth(tmp_path / 'f8_with_object_field.pth',
                    ForgedArray('f8', 'O')): "dtype('O8'",
        crafted_pth(tmp_path / 'f8_with_fields.pth', ForgedArray('f8', 'f8')):
        'fields, sub-arrays, objects',
        crafted_pth(tmp_path / 'object_scalar.pth', ForgedScalar()):
        "dtype('V8'",
        rebinding_history_buffer_pth(tmp_path / 'rebinding_buffer.pth'):
        'statistics_methods other than',
        rebinding_history_buffer_pth(tmp_path / 'extra_field_buffer.pth',
                                     _statistics_methods={}):
        "'_statistics_methods'",
        crafted_pkl(tmp_path / 'void_object.pkl', ForgedArray('V8')):
        "dtype('V8'",
        crafted_pkl(tmp_path / 'object_scalar.pkl', ForgedScalar()):
        "dtype('V8'",
    }
    results = load_each_in_fresh_process(run_tool, forged)
    assert results.pop('mean') == (2.0, ''), 'HistoryBuffer.mean rebound'
    for path, expected in forged.items():
        kind, msg = results[path]
        assert kind == 'CheckpointError', (path, kind, msg)
        assert path in msg and expected in msg, (path, msg)
        assert '\n' not in msg


def test_object_and_string_arrays_are_refused(tmp_path):
    """numpy pickles these as ordinary arrays: only their dtype gives them
    away (object arrays unpickle arbitrary objects, strings are no
    weights)."""
    for name, value in (('object', np.array([1, 'x'], dtype=object)),
                        ('string', np.array(['ab'])),
                        ('record', np.zeros(2, 'i4,f4'))):
        path = crafted_pth(tmp_path / f'{name}.pth', value)
        with pytest.raises(CheckpointError,
                           match=f'{name}.pth holds numpy dtype'):
            safe_load(path)


def test_genuine_numpy_edge_cases_load_exactly(tmp_path):
    """Empty arrays (whose data pickles as ``bytes()``) and ``b''`` were
    refused as "could run arbitrary code" before."""
    values = dict(
        empty=np.zeros(0, np.float32), empty_2d=np.zeros((0, 3), np.int64),
        empty_bytes=b'', big_endian=np.arange(6, dtype='>i4').reshape(2, 3),
        fortran=np.asfortranarray(np.arange(6.0).reshape(2, 3)),
        flags=np.array([True, False, True]), half=np.float16(1.5),
        seed=np.int64(2029356309), complex=np.complex64(1 - 2j),
        nested=[(np.uint8(3), {'k': np.ones((2, 2), np.float32)})])
    path = tmp_path / 'edge.pth'
    torch.save(dict(meta=values), str(path))
    loaded = safe_load(str(path))['meta']
    for key, value in values.items():
        got = loaded[key]
        if isinstance(value, np.ndarray):
            assert got.dtype == value.dtype and got.shape == value.shape, key
            assert np.array_equal(got, value), key
            assert got.flags.writeable, key
            assert got.flags.f_contiguous == value.flags.f_contiguous, key
        elif key != 'nested':
            assert type(got) is type(value) and got == value, key
    scalar, inner = loaded['nested'][0]
    assert type(scalar) is np.uint8 and scalar == 3
    assert np.array_equal(inner['k'], np.ones((2, 2), np.float32))


def test_genuine_history_buffer_loads_through_its_constructor(tmp_path):
    hub = HistoryBuffer(max_length=5)
    for v in (1.0, 2.0, 6.0):
        hub.update(v)
    path = tmp_path / 'hub.pth'
    torch.save(dict(message_hub=dict(log_scalars={'loss': hub})), str(path))
    got = safe_load(str(path))['message_hub']['log_scalars']['loss']
    assert type(got) is HistoryBuffer and got.max_length == 5
    assert got.mean() == 3.0 and got.current() == 6.0
    assert np.array_equal(got.data[1], [1, 1, 1])


def test_numpy_arrays_of_a_pkl_load_in_every_protocol(tmp_path):
    """detectron2 pickles: protocol 2 (bytes as ``_codecs.encode``, b'' as
    ``bytes()``), 4 and 5 (``_frombuffer``)."""
    from mmmaskformer.converters.io import load_restricted_pickle
    model = {'w': np.arange(6, dtype=np.float32).reshape(2, 3),
             'e': np.zeros(0, np.float64), 'n': np.int64(4)}
    for protocol in (2, 4, 5):
        path = tmp_path / f'p{protocol}.pkl'
        with open(path, 'wb') as f:
            pickle.dump({'model': model}, f, protocol=protocol)
        got = load_restricted_pickle(str(path))['model']
        for k, v in model.items():
            assert np.array_equal(got[k], v) and got[k].dtype == v.dtype, \
                (protocol, k)


def overwrite_inside_record(path: str, record_suffix: str, offset: int,
                            data: bytes) -> str:
    """Overwrite bytes inside a stored record, leaving its CRC as it was."""
    with zipfile.ZipFile(path) as z:
        info = next(i for i in z.infolist()
                    if i.filename.endswith(record_suffix))
    with open(path, 'r+b') as f:
        f.seek(info.header_offset + 26)
        name_len, extra_len = np.frombuffer(f.read(4), '<u2')
        f.seek(info.header_offset + 30 + int(name_len) + int(extra_len) +
               offset)
        f.write(data)
    return info.filename


def test_overwritten_bytes_in_a_tensor_record_are_refused(tmp_path):
    path = str(tmp_path / 'iter_4.pth')
    torch.save({'state_dict': {'w': torch.ones(1024)}}, path)
    record = overwrite_inside_record(path, 'data/0', 512, b'\xff' * 64)
    # what torch loads from it: 16 NaNs among the ones
    weights = torch.load(path, weights_only=True)['state_dict']['w']
    assert int(torch.isnan(weights).sum()) == 16
    with pytest.raises(CheckpointError) as e:
        safe_load(path)
    msg = str(e.value)
    assert path in msg and repr(record) in msg and 'CRC' in msg, msg
    # and --resume without a path passes over it
    assert 'CRC' in checkpoint_problem(path)


def deflate_bomb(path: str, mib: int) -> str:
    """A checkpoint of one float tensor of ``mib`` MiB of zeros whose record
    is deflate-compressed (about 1 KiB per MiB): torch.save never
    compresses, torch.load inflates."""
    numel = mib * 2**20 // 4
    storage = object()

    class Tensor:
        def __reduce__(self):
            return (torch._utils._rebuild_tensor_v2,
                    (storage, 0, (numel, ), (1, ), False,
                     collections.OrderedDict()))

    class Pickler(pickle.Pickler):
        def persistent_id(self, obj):
            if obj is storage:
                return ('storage', torch.FloatStorage, '0', 'cpu', numel)
            return None

    data = io.BytesIO()
    Pickler(data, protocol=2).dump({'state_dict': {'w': Tensor()}})
    with zipfile.ZipFile(path, 'w') as z:
        z.writestr('bomb/data.pkl', data.getvalue())
        z.writestr('bomb/byteorder', 'little')
        z.writestr('bomb/version', '3\n')
        info = zipfile.ZipInfo('bomb/data/0')
        info.compress_type = zipfile.ZIP_DEFLATED
        with z.open(info, 'w', force_zip64=True) as record:
            block = bytes(2**20)
            for _ in range(mib):
                record.write(block)
    return path


def test_compressed_records_have_a_size_limit(tmp_path, monkeypatch):
    small = deflate_bomb(str(tmp_path / 'small.pth'), 8)
    assert osp.getsize(small) < 64 * 1024
    # torch inflates it: 8 MiB of tensor from a few KiB of file
    assert torch.load(small, weights_only=True)['state_dict']['w'].numel() \
        == 2 * 2**20
    assert torch.count_nonzero(safe_load(small)['state_dict']['w']) == 0
    monkeypatch.setenv(MAX_INFLATED_ENV, '4')
    with pytest.raises(CheckpointError) as e:
        safe_load(small)
    msg = str(e.value)
    assert small in msg and "'bomb/data/0'" in msg and '4 MiB' in msg
    assert MAX_INFLATED_ENV in msg
    monkeypatch.delenv(MAX_INFLATED_ENV)
    big = deflate_bomb(str(tmp_path / 'big.pth'), 256)
    assert osp.getsize(big) < 1024 * 1024
    with pytest.raises(CheckpointError, match=r"big.pth: record 'bomb/data/0'"
                       r' is compressed and expands beyond 64 MiB'):
        safe_load(big)


@pytest.fixture(scope='module')
def data_root(tmp_path_factory):
    from mmmaskformer.datasets import generate_synthetic_dataset
    return generate_synthetic_dataset(
        str(tmp_path_factory.mktemp('synthetic')), num_train=4, num_val=1,
        progress=False)


def _entry_point_args(entry, tiny_config, pth, pkl, work, options):
    out = osp.join(work, 'out.pth')
    return {
        'tools/test.py': ['tools/test.py', tiny_config, pth, '--work-dir',
                          work, '--cfg-options'] + options,
        'train --resume': ['tools/train.py', tiny_config, '--work-dir', work,
                           '--resume', pth, '--cfg-options'] + options,
        'train load_from': ['tools/train.py', tiny_config, '--work-dir', work,
                            '--cfg-options', f'load_from={pth}'] + options,
        'publish_model': ['tools/misc/publish_model.py', pth, out],
        'convert_mmseg_checkpoint': ['tools/convert_mmseg_checkpoint.py', pth,
                                     out],
        'convert_official_checkpoint': [
            'tools/convert_official_checkpoint.py', pkl, out],
        'convert_backbone': ['tools/convert_backbone.py', pkl, out],
    }[entry]


@pytest.mark.slow
@pytest.mark.parametrize('entry', [
    'tools/test.py', 'train --resume', 'train load_from', 'publish_model',
    'convert_mmseg_checkpoint', 'convert_official_checkpoint',
    'convert_backbone'
])
def test_every_entry_point_refuses_the_forged_dtype(
        entry, data_root, tmp_path, tiny_config, data_options, run_tool,
        stopped_cleanly):
    """Each of these died with a segfault (exit 139) before."""
    pth = crafted_pth(tmp_path / 'forged.pth', ForgedArray('V8'))
    pkl = crafted_pkl(tmp_path / 'forged.pkl', ForgedArray('V8'))
    args = _entry_point_args(entry, tiny_config, pth, pkl,
                             str(tmp_path / 'work'),
                             data_options(data_root, 2))
    out = run_tool(args, expect_rc=1)
    msg = stopped_cleanly(out, 'CheckpointError')
    path = pkl if entry in ('convert_official_checkpoint',
                            'convert_backbone') else pth
    assert path in msg and "numpy dtype('V8'" in msg, msg


@pytest.mark.slow
def test_a_config_stored_in_a_checkpoint_never_runs_on_resume(
        data_root, tmp_path, tiny_config, data_options, run_tool):
    """mmengine's ``Runner.resume`` runs ``Config.fromstring`` on a string
    ``meta['config']``: a genuine checkpoint given one wrote the file below
    on ``--resume`` and trained on."""
    work = str(tmp_path / 'work')
    run_tool(['tools/train.py', tiny_config, '--work-dir', work,
              '--cfg-options'] + data_options(data_root, 2, ckpt_interval=2))
    ckpt_path = osp.join(work, 'iter_2.pth')
    checkpoint = safe_load(ckpt_path)
    marker = tmp_path / 'PWNED'
    code = f'open({str(marker)!r}, "w").write("ran")\n'
    checkpoint['meta']['config'] = code
    checkpoint['meta']['cfg'] = code
    checkpoint['message_hub']['runtime_info']['cfg'] = code
    torch.save(checkpoint, ckpt_path)
    out = run_tool(['tools/train.py', tiny_config, '--work-dir', work,
                    '--resume', ckpt_path, '--cfg-options'] +
                   data_options(data_root, 3, ckpt_interval=3))
    assert not marker.exists()
    assert f"checkpoint {ckpt_path}: ignored meta['config']" in out, \
        out[-3000:]
    assert 'resumed epoch: 0, iter: 2' in out and 'Iter(train) [3/3]' in out
    assert osp.isfile(osp.join(work, 'iter_3.pth'))
