import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from cnnlab.data.transforms import digit_pairs, place_on_canvas, rot90, rotated_dataset, to_float

square_batches = st.integers(1, 6).flatmap(
    lambda side: arrays(np.uint8, st.tuples(st.integers(1, 5), st.just(side), st.just(side))))


# --- place_on_canvas ---------------------------------------------------------------------------

def test_canvas_holds_each_digit_unchanged_at_its_position(mnist, rng):
    digits = mnist[0][0][:200]
    canvases, positions = place_on_canvas(digits, 50, rng=rng)
    assert canvases.shape == (200, 50, 50) and canvases.dtype == np.uint8
    assert positions.min() >= 0 and positions.max() <= 50 - 28
    for canvas, digit, (r, c) in zip(canvases, digits, positions):
        np.testing.assert_array_equal(canvas[r:r + 28, c:c + 28], digit)
    np.testing.assert_array_equal(canvases.sum(axis=(1, 2), dtype=np.int64), digits.sum(axis=(1, 2), dtype=np.int64))


def test_positions_cover_the_canvas_uniformly(rng):
    _, positions = place_on_canvas(np.ones((20000, 28, 28), np.uint8), 50, rng=rng)
    counts = np.bincount(positions[:, 0], minlength=23)
    assert len(counts) == 23 and counts.min() > 0.8 * counts.mean()


def test_canvas_is_reproducible_with_the_same_seed(mnist):
    a = place_on_canvas(mnist[0][0][:50], rng=np.random.default_rng(7))
    b = place_on_canvas(mnist[0][0][:50], rng=np.random.default_rng(7))
    np.testing.assert_array_equal(a[0], b[0])


@pytest.mark.parametrize("kwargs, match", [
    (dict(images=np.zeros((3, 28)), size=50), "images: expected a non-empty 3-D"),
    (dict(images=np.zeros((2, 28, 28)), size=20), "size: expected an int >= the image size 28"),
    (dict(images=np.array([[["a"]]]), size=50), "images: expected a numeric dtype"),
])
def test_canvas_rejects_bad_input(kwargs, match, rng):
    with pytest.raises(ValueError, match=match):
        place_on_canvas(kwargs["images"], kwargs["size"], rng=rng)


def test_canvas_requires_a_generator():
    with pytest.raises(ValueError, match="rng: expected a numpy Generator"):
        place_on_canvas(np.zeros((1, 28, 28)), rng=42)


# --- rot90 -------------------------------------------------------------------------------------

@settings(max_examples=50, deadline=None)
@given(square_batches, st.integers(-8, 8))
def test_four_quarter_turns_are_the_identity_and_k_is_periodic(images, k):
    np.testing.assert_array_equal(rot90(rot90(images, k), 4 - k % 4), images)
    np.testing.assert_array_equal(rot90(images, k), rot90(images, k + 4))


@settings(max_examples=50, deadline=None)
@given(square_batches, st.integers(0, 3), st.integers(0, 3))
def test_rotations_compose_by_adding_angles_and_keep_pixel_sums(images, a, b):
    np.testing.assert_array_equal(rot90(rot90(images, a), b), rot90(images, a + b))
    np.testing.assert_array_equal(rot90(images, a).sum(axis=(1, 2)), images.sum(axis=(1, 2)))


def test_one_quarter_turn_is_counter_clockwise():
    image = np.array([[[1, 2], [3, 4]]])
    np.testing.assert_array_equal(rot90(image, 1), [[[2, 4], [1, 3]]])


def test_per_image_turns_match_single_turns(mnist):
    images = mnist[0][0][:40]
    k = np.arange(40) % 4
    rotated = rot90(images, k)
    for image, turns, out in zip(images, k, rotated):
        np.testing.assert_array_equal(out, np.rot90(image, turns))


def test_rot90_keeps_a_channel_axis():
    images = np.arange(2 * 3 * 3 * 2).reshape(2, 3, 3, 2)
    np.testing.assert_array_equal(rot90(images, [1, 2])[0, ..., 1], np.rot90(images[0, ..., 1]))


@pytest.mark.parametrize("images, k, match", [
    (np.zeros((2, 3, 3)), 1.0, "k: expected an int"),
    (np.zeros((2, 3, 3)), [1, 2, 3], r"k: expected an int or \(2,\) ints"),
    (np.zeros((2, 3, 4)), [1, 0], "odd per-image turns need square images"),
    (np.zeros((3, 3)), 1, "images: expected a non-empty 3-D or 4-D"),
])
def test_rot90_rejects_bad_input(images, k, match):
    with pytest.raises(ValueError, match=match):
        rot90(images, k)


# --- rotated_dataset ---------------------------------------------------------------------------

def test_rotated_dataset_is_exactly_balanced(mnist, rng):
    (x, y), _ = mnist
    images, labels, turns = rotated_dataset(x, y, rng=rng)
    per_class = 5420  # the rarest class (5 with 5421 images) rounded down to a multiple of 4
    assert images.shape == (10 * per_class, 28, 28)
    assert np.bincount(labels).tolist() == [per_class] * 10
    table = np.zeros((10, 4), int)
    np.add.at(table, (labels, turns), 1)
    assert (table == per_class // 4).all()


def test_rotated_dataset_rotates_real_digits(mnist, rng):
    (x, y), _ = mnist
    images, labels, turns = rotated_dataset(x[:400], y[:400], rng=rng, per_class=8)
    back = rot90(images, -turns)
    sources = {x[i].tobytes() for i in range(400)}
    assert all(b.tobytes() in sources for b in back)


@pytest.mark.parametrize("per_class", [0, 6, 10**6, 2.0])
def test_rotated_dataset_rejects_bad_per_class(per_class, mnist, rng):
    (x, y), _ = mnist
    with pytest.raises(ValueError, match="per_class: expected a positive multiple of 4"):
        rotated_dataset(x[:1000], y[:1000], rng=rng, per_class=per_class)


def test_rotated_dataset_rejects_mismatched_labels(rng):
    with pytest.raises(ValueError, match=r"y: expected \(5,\) integer labels"):
        rotated_dataset(np.zeros((5, 4, 4)), np.zeros(4, int), rng=rng)


# --- digit_pairs -------------------------------------------------------------------------------

@pytest.mark.parametrize("axis, shape", [(1, (30, 28, 56)), (0, (30, 56, 28))])
def test_digit_pairs_join_two_digits_with_their_labels(mnist, rng, axis, shape):
    (x, y), _ = mnist
    images, labels, sums = digit_pairs(x[:500], y[:500], 30, axis, rng=rng)
    assert images.shape == shape and labels.shape == (30, 2)
    np.testing.assert_array_equal(sums, labels.sum(axis=1))
    first, second = np.split(images, 2, axis=axis + 1)
    lookup = {x[i].tobytes(): y[i] for i in range(500)}
    assert [lookup[f.tobytes()] for f in first] == labels[:, 0].tolist()
    assert [lookup[s.tobytes()] for s in second] == labels[:, 1].tolist()


@pytest.mark.parametrize("n, axis, match", [(0, 1, "n: expected a positive int"), (5, 2, "axis: expected 0")])
def test_digit_pairs_reject_bad_arguments(mnist, rng, n, axis, match):
    (x, y), _ = mnist
    with pytest.raises(ValueError, match=match):
        digit_pairs(x[:10], y[:10], n, axis, rng=rng)


def test_digit_pairs_draw_only_the_given_label_pairs_and_every_one_of_them(mnist, rng):
    (x, y), _ = mnist
    allowed = [(3, 5), (5, 3), (0, 0), (9, 1)]
    images, labels, _ = digit_pairs(x[:2000], y[:2000], 4000, rng=rng, pairs=allowed)
    assert set(map(tuple, labels.tolist())) == set(allowed)
    counts = np.unique(labels, axis=0, return_counts=True)[1]
    assert counts.min() > 800  # about 1,000 each: uniform over the allowed pairs
    lookup = {x[i].tobytes(): y[i] for i in range(2000)}
    assert [lookup[f.tobytes()] for f in images[:50, :, :28]] == labels[:50, 0].tolist()


@pytest.mark.parametrize("pairs, match", [([(1, 2, 3)], "pairs: expected a non-empty list"), ([], "pairs: expected"),
                                          ([(1, 12)], r"pairs: labels \[12\] have no image")])
def test_digit_pairs_reject_bad_pairs(mnist, rng, pairs, match):
    (x, y), _ = mnist
    with pytest.raises(ValueError, match=match):
        digit_pairs(x[:100], y[:100], 5, rng=rng, pairs=pairs)


# --- to_float ----------------------------------------------------------------------------------

def test_to_float_scales_to_unit_range_and_adds_a_channel():
    out = to_float(np.array([[[0, 255]]], np.uint8))
    assert out.shape == (1, 1, 2, 1) and out.dtype == np.float32
    assert out.min() == 0.0 and out.max() == 1.0


def test_to_float_rejects_float_input():
    with pytest.raises(ValueError, match="expected uint8 pixels"):
        to_float(np.zeros((1, 2, 2), np.float32))
