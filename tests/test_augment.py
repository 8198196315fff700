import numpy as np
import pytest
from scipy import ndimage

from cnnlab.data import augment as aug


@pytest.fixture(scope="module")
def digits(mnist):
    return mnist[0][0][:64].astype(np.float32) / 255


def com(images):
    return np.array([ndimage.center_of_mass(image) for image in images])


def random_calls(rng):
    return {
        "augment": lambda x: aug.augment(x, rng),
        "random_affine": lambda x: aug.random_affine(x, rng),
        "elastic": lambda x: aug.elastic(x, rng),
        "random_thickness": lambda x: aug.random_thickness(x, rng, p=1.0),
        "noise": lambda x: aug.noise(x, rng),
    }


# --- common contract ---------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["augment", "random_affine", "elastic", "random_thickness", "noise"])
@pytest.mark.parametrize("channel", [False, True])
def test_shape_dtype_and_range_are_kept(digits, name, channel):
    x = digits[..., None] if channel else digits
    out = random_calls(np.random.default_rng(0))[name](x)
    assert out.shape == x.shape and out.dtype == np.float32
    assert out.min() >= 0 and out.max() <= 1
    assert not np.array_equal(out, x)


@pytest.mark.parametrize("name", ["augment", "random_affine", "elastic", "random_thickness", "noise"])
def test_same_seed_same_result(digits, name):
    a = random_calls(np.random.default_rng(5))[name](digits)
    b = random_calls(np.random.default_rng(5))[name](digits)
    c = random_calls(np.random.default_rng(6))[name](digits)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_strength_zero_is_the_identity(digits):
    np.testing.assert_array_equal(aug.augment(digits, np.random.default_rng(0), strength=0.0), digits)


def test_augmented_digits_stay_recognisable_in_bulk(digits):
    out = aug.augment(np.repeat(digits, 4, axis=0), np.random.default_rng(1))
    mass_ratio = out.sum(axis=(1, 2)) / np.repeat(digits, 4, axis=0).sum(axis=(1, 2))
    assert 0.4 < np.median(mass_ratio) < 2.0
    assert (out.max(axis=(1, 2)) > 0.9).all()  # rescaled to peak at 1, plus a little noise
    assert np.abs(com(out) - 14).max() < 6


# --- affine ------------------------------------------------------------------------------------

def test_shift_moves_the_centre_of_mass_by_exactly_the_shift(digits):
    padded = np.pad(digits, ((0, 0), (3, 3), (3, 3)))  # (64, 34, 34): no ink can leave the frame
    shift = np.array([1.5, -2.0])
    moved = aug.affine(padded, shift=shift)
    np.testing.assert_allclose(com(moved) - com(padded), np.broadcast_to(shift, (64, 2)), atol=1e-3)
    np.testing.assert_allclose(moved.sum(axis=(1, 2)), padded.sum(axis=(1, 2)), rtol=1e-4)


def test_per_image_shifts(digits):
    padded = np.pad(digits, ((0, 0), (3, 3), (3, 3)))
    shifts = np.random.default_rng(0).uniform(-2, 2, (64, 2))
    np.testing.assert_allclose(com(aug.affine(padded, shift=shifts)) - com(padded), shifts, atol=1e-3)


def test_quarter_turn_matches_rot90_counter_clockwise(digits):
    np.testing.assert_allclose(aug.affine(digits, rotation=90.0), np.rot90(digits, 1, axes=(1, 2)), atol=1e-5)


@pytest.mark.parametrize("angle", [-15.0, 7.0, 15.0, 40.0])
def test_rotation_roughly_preserves_pixel_mass_and_centre(digits, angle):
    rotated = aug.affine(digits, rotation=angle)
    ratio = rotated.sum(axis=(1, 2)) / digits.sum(axis=(1, 2))
    assert np.abs(ratio - 1).max() < 0.05
    np.testing.assert_allclose(com(rotated), com(digits), atol=1.5)


def test_scale_and_shear_follow_the_documented_conventions():
    bar = np.zeros((1, 28, 28), np.float32)
    bar[0, 6:22, 13:15] = 1.0  # a vertical stroke through the centre
    bigger = aug.affine(bar, scale=1.2)
    assert (bigger[0].sum(axis=1) > 0.5).sum() > (bar[0].sum(axis=1) > 0.5).sum()
    np.testing.assert_allclose(bigger.sum() / bar.sum(), 1.2 ** 2, rtol=0.05)
    slanted = aug.affine(bar, shear=0.3)[0]
    top, bottom = com(slanted[None, 6:11])[0, 1], com(slanted[None, 17:22])[0, 1]
    assert top > bottom + 2, "positive shear slants forward: the top moves right"


def test_random_affine_respects_its_ranges(digits):
    moved = aug.random_affine(digits, np.random.default_rng(0), max_shift=1.0, max_rotation=0, max_scale=0, max_shear=0)
    assert np.abs(com(moved) - com(digits)).max() <= 1.0 + 1e-3


# --- elastic -----------------------------------------------------------------------------------

def test_elastic_field_equals_a_batched_gaussian_filter():
    shape = (3, 28, 30)
    field = aug._elastic_field(shape, np.random.default_rng(3), 1.0, 4.0)
    noise = 2 * np.random.default_rng(3).random((*shape, 2), dtype=np.float32) - 1
    expected = ndimage.gaussian_filter(noise, 4.0, axes=(1, 2), mode="constant")
    np.testing.assert_allclose(field, expected, atol=1e-6)


def test_elastic_distortion_is_local_and_keeps_the_digit(digits):
    out = aug.elastic(digits, np.random.default_rng(0))
    ratio = out.sum(axis=(1, 2)) / digits.sum(axis=(1, 2))  # local stretching changes the mass a little
    assert np.median(np.abs(ratio - 1)) < 0.15 and np.abs(ratio - 1).max() < 0.4
    assert np.abs(com(out) - com(digits)).max() < 3
    np.testing.assert_allclose(aug.elastic(digits, np.random.default_rng(0), alpha=0.0), digits, atol=1e-6)


# --- thickness, blur, noise --------------------------------------------------------------------

def test_thickness_steps_change_the_ink_mass_in_order(digits):
    masses = [aug.change_thickness(digits, step).sum(axis=(1, 2)) for step in (-1, 0, 1, 2)]
    assert (masses[0] < masses[1]).all() and (masses[1] < masses[2]).all() and (masses[2] < masses[3]).all()
    np.testing.assert_array_equal(aug.change_thickness(digits, 0), digits)


def test_grouped_thickness_matches_one_image_at_a_time(digits):
    steps = np.arange(64) % 4 - 1
    grouped = aug.change_thickness(digits, steps)
    for image, step, out in zip(digits, steps, grouped):
        np.testing.assert_array_equal(out, aug.change_thickness(image[None], step)[0])


def test_blur_blends_towards_a_gaussian(digits):
    np.testing.assert_array_equal(aug.blur(digits, 0.0), digits)
    full = ndimage.gaussian_filter(digits, 1.0, axes=(1, 2), mode="constant")
    np.testing.assert_allclose(aug.blur(digits, 1.0), full, atol=1e-6)
    half = aug.blur(digits, np.full(64, 0.5))
    np.testing.assert_allclose(half, (digits + full) / 2, atol=1e-6)


def test_noise_of_zero_std_is_the_identity(digits):
    np.testing.assert_array_equal(aug.noise(digits, np.random.default_rng(0), std=0.0), digits)


# --- bad input ---------------------------------------------------------------------------------

@pytest.mark.parametrize("call, match", [
    (lambda x, r: aug.augment((x * 255).astype(np.uint8), r), "expected float pixels in"),
    (lambda x, r: aug.augment(x * 2, r), r"expected values in \[0, 1\], got range"),
    (lambda x, r: aug.augment(x[0], r), r"expected a non-empty \(n, h, w\) or \(n, h, w, 1\) batch"),
    (lambda x, r: aug.augment(x[:0], r), "non-empty"),
    (lambda x, r: aug.augment(np.full_like(x, np.nan), r), r"expected values in \[0, 1\]"),
    (lambda x, r: aug.augment(x, 42), "rng: expected a numpy Generator"),
    (lambda x, r: aug.augment(x, r, strength=-1), "strength: expected a finite number >= 0"),
    (lambda x, r: aug.augment(x, r, strength=10), "strength: expected a value <"),
    (lambda x, r: aug.affine(x, scale=0.0), "scale: expected positive factors"),
    (lambda x, r: aug.affine(x, shift=[1, 2, 3]), r"shift: expected finite numbers, one value, \(2,\) or \(64, 2\) values"),
    (lambda x, r: aug.affine(x, rotation=np.zeros(3)), r"rotation: expected finite numbers, one value or \(64,\)"),
    (lambda x, r: aug.random_affine(x, r, max_scale=1.0), r"max_scale: expected a fraction in \[0, 1\)"),
    (lambda x, r: aug.random_affine(x, r, max_rotation=-5), "max_rotation: expected a finite number >= 0"),
    (lambda x, r: aug.elastic(x, r, sigma=0), "sigma: expected a positive smoothing width"),
    (lambda x, r: aug.change_thickness(x, 3), r"steps: expected one value or \(64,\) values in \{-1, 0, 1, 2\}"),
    (lambda x, r: aug.random_thickness(x, r, p=1.5), r"p: expected a probability in \[0, 1\]"),
    (lambda x, r: aug.blur(x, 2.0), r"amount: expected values in \[0, 1\]"),
    (lambda x, r: aug.noise(x, r, std=float("inf")), "std: expected a finite number >= 0"),
    (lambda x, r: aug.with_copies(x, np.zeros(3, int)), r"labels: expected \(64,\) integers"),
    (lambda x, r: aug.with_copies(x, np.zeros(64), copies=1), r"labels: expected \(64,\) integers"),
    (lambda x, r: aug.with_copies(x, np.zeros(64, int), copies=-1), "copies: expected an int >= 0"),
    (lambda x, r: aug.with_copies(x, np.zeros(64, int), seed=-1), "seed: expected an int >= 0"),
])
def test_bad_input_raises_a_clear_value_error(digits, call, match):
    with pytest.raises(ValueError, match=match):
        call(digits, np.random.default_rng(0))


# --- a training set with augmented copies, and its recipe ----------------------------------------

@pytest.mark.parametrize("channel", [False, True])
def test_with_copies_appends_the_seeded_copies_and_tiles_the_labels(digits, channel):
    x = digits[..., None] if channel else digits
    y = np.arange(len(x)) % 10
    out, labels, recipe = aug.with_copies(x, y, copies=2, seed=3)
    rng = np.random.default_rng(3)
    expected = np.concatenate([x, aug.augment(x, rng), aug.augment(x, rng)])
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(labels, np.tile(y, 3))
    assert out.shape == (3 * len(x), *x.shape[1:]) and out.dtype == np.float32
    assert recipe.endswith(f"+ 2 copies by cnnlab.data.augment v{aug.VERSION}, seed 3")


def test_the_recipe_names_the_source_images_copies_seed_and_strength(digits):
    from cnnlab.train import fingerprint

    y = np.zeros(len(digits), int)
    recipe = aug.with_copies(digits, y, seed=0)[2]
    assert fingerprint(digits) in recipe  # the same digest as the cache key's fingerprint
    others = [aug.with_copies(digits, y, seed=1)[2], aug.with_copies(digits, y, copies=2)[2],
              aug.with_copies(digits[::-1].copy(), y)[2], aug.with_copies(digits, y, strength=0.5)[2]]
    assert len({recipe, *others}) == 5 and "strength 0.5" in others[3]
    assert aug.with_copies(digits, y, seed=0)[2] == recipe  # deterministic


# --- like_uci_digits and with_copies(uci_fraction=...) ------------------------------------------

def test_like_uci_digits_look_like_the_framed_scikit_learn_digits(digits):
    from sklearn.datasets import load_digits

    from cnnlab.digits import frame_like_mnist

    out = aug.like_uci_digits(digits, np.random.default_rng(0))
    assert out.shape == digits.shape and out.dtype == np.float32 and out.max() <= 1 and out.min() >= 0
    np.testing.assert_array_equal(out, aug.like_uci_digits(digits, np.random.default_rng(0)))
    real = frame_like_mnist(load_digits().images[:64] / 16.0)[..., 0]
    heights = [np.ptp(np.nonzero(image > 0)[0]) + 1 for image in out]
    assert set(heights) == {20}, "every UCI digit fills its 32 rows, so it is framed 20 pixels tall"
    assert abs(out.mean() - real.mean()) < 0.05, "about as much ink as the real ones"
    assert np.abs(out - digits).mean() > 0.05, "really degraded"


def test_like_uci_digits_rejects_bad_input(digits):
    with pytest.raises(ValueError, match="thicken_p: expected a probability"):
        aug.like_uci_digits(digits, np.random.default_rng(0), thicken_p=2)
    with pytest.raises(ValueError, match="has no ink"):
        aug.like_uci_digits(np.zeros((2, 28, 28), np.float32), np.random.default_rng(0))


def test_with_copies_replaces_a_fraction_of_the_copy_and_names_it(digits):
    labels = np.arange(len(digits)) % 10
    x0, _, recipe0 = aug.with_copies(digits, labels, seed=1)
    x, y, recipe = aug.with_copies(digits, labels, seed=1, uci_fraction=0.5)
    assert x.shape == x0.shape and np.array_equal(y, np.tile(labels, 2))
    assert np.array_equal(x[:len(digits)], digits), "the originals come first, unchanged"
    changed = np.abs(x - x0).reshape(len(x), -1).max(1) > 0
    assert 0.25 < changed[len(digits):].mean() < 0.75 and not changed[:len(digits)].any()
    assert recipe == recipe0 + ", UCI-like fraction 0.5"
    with pytest.raises(ValueError, match="uci_fraction: expected a fraction"):
        aug.with_copies(digits, labels, uci_fraction=1.5)
