"""The generated data is byte-identical to what the single-module generator
(before the ``synthetic_shapes`` package) wrote, so the demo's numbers hold.

The SHA-256 of every file was recorded with that code (commit da97f17,
``mmmaskformer/datasets/synthetic.py``) for two parameter sets. PNG bytes
depend on OpenCV's encoder: the hashes are for the pinned
opencv-python 4.10.0.84 (requirements/runtime.txt).
"""
import hashlib
import os
import os.path as osp

import pytest

from mmmaskformer.datasets import generate_synthetic_dataset

SIZE64_SEED0 = {
    'ann_dir/train/00000.png':
        '479cfd802c65470c511d60e7d97d55e5dc650ab93dfe6988b239a707fc18516e',
    'ann_dir/train/00001.png':
        '17e37a6d7fe288caeb4d90666932fdc3b5e708e64c403559b4fe377e6f9cd4d0',
    'ann_dir/train/00002.png':
        '7ce70a72a531a1d93325fde4ea421eef237c3e76012007b60ff8b336d73005e0',
    'ann_dir/val/00000.png':
        '4e2a9cd0d253dbe4f257b4521ff9b9f46aa07d731fc44e021c51f7194925615d',
    'ann_dir/val/00001.png':
        'b3f2686c41997d8cec021aca503df524b1498979b7fee87280f6e1884e5763d6',
    'annotations/instances_val.json':
        '1649953eb94ddc5c4484e09e382f933ad3e69689b00024a167e863e355f56772',
    'annotations/panoptic_train.json':
        '53fb5ccab9e9c3da963475e0edf7c7aaf0cce9604ee69690664e8b829e04a38c',
    'annotations/panoptic_train/00000.png':
        'ef5eb6f31d305996be408e91b7613ff051d4e750865995ca128868c3ab451a38',
    'annotations/panoptic_train/00001.png':
        '65bac8417e85d2459edd6d063ff0755af3d1859b40044d2207e4709a49b72b55',
    'annotations/panoptic_train/00002.png':
        '04a0f95915c5b557aea44da7c289dfe3fc2fe4988b9c87cdc6f10426b99535d2',
    'annotations/panoptic_val.json':
        '3273f9be9e48a13f26bf2d0b798df8f5b6d519a64ef11d6d8e7327f93d8b5b56',
    'annotations/panoptic_val/00000.png':
        'c3bc3c80811eeedf050a59e6f64492d8b05321f0d697eee6d4cb3d3a111980d7',
    'annotations/panoptic_val/00001.png':
        '8f5c9e5ef21f96b1f6d5326e112d405bc9b7e58a3a9ab992acc828be0719bc8b',
    'img_dir/train/00000.png':
        '421cc4449ab2cf7809471cfd84174e13d2bac97b59564dadc51223536671a083',
    'img_dir/train/00001.png':
        '2eb8b57f99553687e1bbdaf5be8ab18f3038ab0124c834dd44cdc5a475a7f7fd',
    'img_dir/train/00002.png':
        'cfe809b13078ad4f9556f19ba043a65c3112dcc6f511ae21b444af529b6caea5',
    'img_dir/val/00000.png':
        '308accf9c837bd3a3bcdc7f941f9eaa10717e570703ce59987ded466e19fc930',
    'img_dir/val/00001.png':
        '268fbc35d93efb80ddc4f89aa94fe42fde5390335799e8ef42aaf2f117f48e08',
    'meta.json':
        'bb2819306e605ed24033755cc5348ff05bcda908805af47d75c55f119a57234f',
}
SIZE48_SEED7 = {
    'ann_dir/train/00000.png':
        '219901e9277b56e437ab5ebb238907cfe7021340af0470d5adca5d41baad57cf',
    'ann_dir/train/00001.png':
        'f5fa1857593390ddecdd851d03e108bd138392e295744db79fc79b30eb4b0483',
    'ann_dir/val/00000.png':
        'a12812df037099828de0714f48399e01a6e609c3ba20e8a0379de9171d3cb2d2',
    'annotations/instances_val.json':
        'b9d5b592a0194f3fa4ca639227bf167376110c853b89180d5c35751debdf2c51',
    'annotations/panoptic_train.json':
        '54187520707b7b7aa5b40bd06c237700d133177759acbb384ef620e693ab0798',
    'annotations/panoptic_train/00000.png':
        'e4519c1c342fc5c6ef7bd915589dfec0afed5f205cc945ccad641bc3ac36a323',
    'annotations/panoptic_train/00001.png':
        '4356971f12e69bb53e6977a3f95461116f2d21bb752cadb422615c040e538935',
    'annotations/panoptic_val.json':
        'e870847aefdf68a8694c4b403dde182c99bcee397c691dddf3bf28f1d8fe1ed0',
    'annotations/panoptic_val/00000.png':
        'e4811d484b67fc66872df3661550726c7b634223e159807372d4b4857a4e1dc8',
    'img_dir/train/00000.png':
        '31dfeeec237c8ed943a3ea24661afe02c8ee8a737a9ebef48a8b4bcb62e3e360',
    'img_dir/train/00001.png':
        '9051c7abc347da45bd59c31becea36e67638231a678b15628d053f760f7708d8',
    'img_dir/val/00000.png':
        'eb6d2ccb2d9006b081fbf07a5b3afbd8f765a813fc8d4b83901d7013abfa68e8',
    'meta.json':
        'a78853c6033f4c3aafa2fd4cc84419a801825e630bcf60b138129ff9bf852bcb',
}


def file_hashes(root):
    out = {}
    for folder, _, files in os.walk(root):
        for name in files:
            path = osp.join(folder, name)
            with open(path, 'rb') as f:
                out[osp.relpath(path, root)] = hashlib.sha256(
                    f.read()).hexdigest()
    return out


@pytest.mark.parametrize('params,expected', [
    (dict(num_train=3, num_val=2, size=64, seed=0), SIZE64_SEED0),
    (dict(num_train=2, num_val=1, size=48, seed=7), SIZE48_SEED7),
], ids=['64px-seed0', '48px-seed7'])
def test_files_are_byte_identical_to_the_recorded_ones(tmp_path, params,
                                                      expected):
    root = str(tmp_path / 'data')
    generate_synthetic_dataset(root, progress=False, **params)
    written = file_hashes(root)
    # every recorded file, byte for byte; files added since (the instance
    # demo's annotations/instances_train.json) are not part of the record
    assert {name: written.get(name) for name in expected} == expected


def test_a_complete_folder_is_not_written_again(tmp_path):
    root = str(tmp_path / 'data')
    generate_synthetic_dataset(root, num_train=1, num_val=1, size=32,
                               progress=False)
    image = osp.join(root, 'img_dir', 'train', '00000.png')
    os.remove(image)
    generate_synthetic_dataset(root, num_train=1, num_val=1, size=32,
                               progress=False)
    assert not osp.exists(image)  # same parameters: meta.json says done
    generate_synthetic_dataset(root, num_train=1, num_val=1, size=32,
                               seed=1, progress=False)
    assert osp.exists(image)  # other parameters: written again
