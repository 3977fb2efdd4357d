"""Feature definitions checked against hand-computed values on constructed inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import ndimage

from feature_store.features import (
    AUDIO_FEATURE_NAMES,
    FEATURE_SET_VERSION,
    FRAME_FEATURE_NAMES,
    audio_features,
    audio_features_batch,
    frame_features,
    frame_features_batch,
)
from feature_store.features.audio import (
    acoustic_complexity_index,
    hilbert_envelope,
    normalised_entropy,
    power_spectrogram,
)

SR = 32_000
CHUNK = 5 * SR
GREEN = (40, 160, 50)  # ExG = (320 - 90) / 250 = 0.92
SOIL = (120, 90, 60)  # ExG = (180 - 180) / 270 = 0; R > G > B -> brown


def solid(rgb: tuple[int, int, int], h: int = 64, w: int = 64) -> np.ndarray:
    return np.broadcast_to(np.array(rgb, dtype=np.uint8), (h, w, 3)).copy()


def grey(values: np.ndarray) -> np.ndarray:
    """R = G = B, so luma equals the value exactly (0.299 + 0.587 + 0.114 = 1)."""
    return np.repeat(values.astype(np.uint8)[..., np.newaxis], 3, axis=-1)


def tone(freq: float, amplitude: float = 0.5, n: int = CHUNK, sr: int = SR) -> np.ndarray:
    t = np.arange(n) / sr
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


# --- frames -------------------------------------------------------------------------------------


def test_all_green_frame() -> None:
    f = frame_features(solid(GREEN))
    assert f["vegetation_fraction"] == 1.0
    assert f["canopy_cover_left"] == 1.0
    assert f["canopy_cover_right"] == 1.0
    assert f["exg_mean"] == pytest.approx(0.92, abs=1e-12)
    # chromatic features sample every 2nd pixel: 32 x 32 = 1024 green samples, no brown
    assert f["green_brown_ratio"] == pytest.approx(1024.5 / 1025.0, abs=1e-12)
    assert f["green_cluster_density"] == pytest.approx(1 / (64 * 64 / 1e6))  # one blob


def test_bare_soil_frame() -> None:
    f = frame_features(solid(SOIL))
    assert f["vegetation_fraction"] == 0.0
    assert f["exg_mean"] == pytest.approx(0.0, abs=1e-12)
    assert f["green_brown_ratio"] == pytest.approx(0.5 / 1025.0, abs=1e-12)
    assert f["green_cluster_density"] == 0.0
    assert f["canopy_cover_left"] == f["canopy_cover_right"] == 0.0


def test_half_green_frame() -> None:
    image = solid(SOIL)
    image[:, :32] = GREEN
    f = frame_features(image)
    assert f["vegetation_fraction"] == 0.5
    assert f["exg_mean"] == pytest.approx(0.46, abs=1e-12)
    assert f["green_brown_ratio"] == pytest.approx(0.5, abs=1e-12)
    assert f["canopy_cover_left"] == 1.0
    assert f["canopy_cover_right"] == 0.0


def test_exg_threshold_boundary_and_green_wins_over_brown() -> None:
    # S = 300: 2G - R - B = 30 -> ExG = 0.10 exactly (not above the threshold); 33 -> 0.11 (green)
    assert frame_features(solid((100, 110, 90)))["vegetation_fraction"] == 0.0
    assert frame_features(solid((100, 111, 89)))["vegetation_fraction"] == 1.0
    # yellow-green (150, 140, 40): R > G > B but ExG = 90 / 330 = 0.27 -> green, not brown
    f = frame_features(solid((150, 140, 40)))
    assert f["vegetation_fraction"] == 1.0
    assert f["green_brown_ratio"] == pytest.approx(1024.5 / 1025.0, abs=1e-12)


def test_dark_and_neutral_pixels_are_neither_green_nor_brown() -> None:
    dark_green = frame_features(solid((0, 9, 0)))  # R+G+B = 9 < 30: chromaticity unreliable
    assert dark_green["vegetation_fraction"] == 0.0
    assert dark_green["exg_mean"] == pytest.approx(2.0)  # g = 1, r = b = 0
    white = frame_features(solid((255, 255, 255)))
    assert white["vegetation_fraction"] == 0.0
    assert white["green_brown_ratio"] == 0.5  # nothing classified


def test_constant_frame_brightness_is_its_luma_and_texture_is_zero() -> None:
    f = frame_features(solid((200, 100, 50), 30, 40))
    assert f["brightness_mean"] == pytest.approx(0.299 * 200 + 0.587 * 100 + 0.114 * 50, rel=1e-15)
    assert f["brightness_std"] == 0.0
    assert f["sharpness"] == 0.0


def test_checkerboard_laplacian_variance() -> None:
    board = grey((np.indices((8, 10)).sum(axis=0) % 2) * 255)
    f = frame_features(board)
    # every interior pixel: +-(4 * 255) with balanced signs (6 x 8 interior) -> variance 1020^2
    assert f["sharpness"] == 1020.0**2
    assert f["brightness_mean"] == 127.5
    assert f["brightness_std"] == 127.5


def test_single_bright_pixel_laplacian_variance() -> None:
    image = np.zeros((5, 5), dtype=np.uint8)
    image[2, 2] = 255
    f = frame_features(grey(image))
    # 3x3 interior: centre -1020, its 4 neighbours +255, corners 0 -> mean 0, var (1020^2 + 4 * 255^2) / 9
    assert f["sharpness"] == pytest.approx((1020**2 + 4 * 255**2) / 9, rel=1e-12)
    assert f["brightness_mean"] == pytest.approx(255 / 25, rel=1e-12)
    assert f["brightness_std"] == pytest.approx(math.sqrt(255**2 / 25 - (255 / 25) ** 2), rel=1e-12)


def test_blur_lowers_sharpness() -> None:
    texture = np.random.default_rng(0).integers(0, 256, (120, 160)).astype(np.float64)
    blurred = ndimage.uniform_filter(texture, size=5)
    sharp, soft = frame_features(grey(texture))["sharpness"], frame_features(grey(blurred))["sharpness"]
    assert soft < 0.1 * sharp


def test_green_clusters_are_counted_and_specks_ignored() -> None:
    image = solid(SOIL)
    for y, x in ((4, 4), (4, 40), (40, 20)):
        image[y : y + 16, x : x + 16] = GREEN
    assert frame_features(image)["green_cluster_density"] == pytest.approx(3 / (64 * 64 / 1e6))
    specks = solid(SOIL)
    specks[::8, ::8] = GREEN  # isolated single green pixels
    f = frame_features(specks)
    assert f["green_cluster_density"] == 0.0
    assert f["vegetation_fraction"] == pytest.approx(1 / 16)  # 8 x 8 of the 32 x 32 samples


def test_blobs_below_minimum_size_are_not_counted() -> None:
    two_cells, three_cells = solid(SOIL), solid(SOIL)
    two_cells[8:12, 8:16] = GREEN  # 2 cells of 4x4 px = 32 px
    three_cells[8:12, 8:20] = GREEN  # 3 cells = 48 px
    assert frame_features(two_cells)["green_cluster_density"] == 0.0
    assert frame_features(three_cells)["green_cluster_density"] == pytest.approx(1 / (64 * 64 / 1e6))
    half_cells = solid(SOIL)
    half_cells[8:10, 8:20] = GREEN  # exactly half of each cell's samples: not "more than half"
    assert frame_features(half_cells)["green_cluster_density"] == 0.0


def test_diagonally_touching_blobs_are_one_cluster() -> None:
    image = solid(SOIL)
    image[8:12, 8:20] = GREEN  # cells (2, 2..4)
    image[12:16, 20:32] = GREEN  # cells (3, 5..7): touches (2, 4) at a corner -> 8-connected
    image[40:44, 8:20] = GREEN  # a separate blob
    assert frame_features(image)["green_cluster_density"] == pytest.approx(2 / (64 * 64 / 1e6))


def test_frame_batch_matches_single_and_shapes() -> None:
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, (3, 480, 640, 3), dtype=np.uint8)
    images[1, 100:300, 200:400] = GREEN
    batch = frame_features_batch(images)
    assert tuple(batch) == FRAME_FEATURE_NAMES
    for name in FRAME_FEATURE_NAMES:
        assert batch[name].shape == (3,) and batch[name].dtype == np.float64
    for i in range(3):
        single = frame_features(images[i])
        for name in FRAME_FEATURE_NAMES:
            assert batch[name][i] == pytest.approx(single[name], rel=1e-12, abs=1e-12), name


@pytest.mark.parametrize("shape", [(480, 640), (1, 1), (2, 3), (3, 3), (7, 5)])
def test_frame_edge_cases_are_finite(shape: tuple[int, int]) -> None:
    for rgb in ((0, 0, 0), (255, 255, 255), GREEN):
        values = np.array(list(frame_features(solid(rgb, *shape)).values()))
        assert np.all(np.isfinite(values))
    black = frame_features(solid((0, 0, 0), *shape))
    assert black["brightness_mean"] == 0.0 and black["exg_mean"] == 0.0
    assert black["green_brown_ratio"] == 0.5


def test_frame_input_validation() -> None:
    assert frame_features_batch(np.zeros((0, 4, 4, 3), np.uint8))["sharpness"].shape == (0,)
    with pytest.raises(TypeError):
        frame_features_batch(np.zeros((1, 4, 4, 3), np.float32))
    with pytest.raises(ValueError):
        frame_features_batch(np.zeros((4, 4, 3), np.uint8))
    with pytest.raises(ValueError):
        frame_features(np.zeros((1, 4, 4, 3), np.uint8))


# --- audio --------------------------------------------------------------------------------------


def test_full_scale_1khz_sine() -> None:
    f = audio_features(tone(1000.0, amplitude=1.0))
    assert f["rms_dbfs"] == pytest.approx(-3.0103, abs=1e-3)
    assert f["spectral_centroid_hz"] == pytest.approx(1000.0, abs=1e-6)
    # Hann leakage: power 1/4, 1, 1/4 in bins 968.75, 1000, 1031.25 Hz -> spread 31.25 / sqrt(3)
    assert f["spectral_bandwidth_hz"] == pytest.approx(31.25 / math.sqrt(3), rel=1e-6)
    assert f["spectral_flatness"] < 1e-6
    # 1/6 of the power sits in the 968.75 Hz bin (0-1k band), 5/6 in 1-2k; total 0.5 (full-scale sine)
    assert f["band_db_0_1k"] == pytest.approx(10 * math.log10(0.5 / 6), abs=1e-6)
    assert f["band_db_1_2k"] == pytest.approx(10 * math.log10(0.5 * 5 / 6), abs=1e-6)


def test_band_levels_of_a_1500_hz_tone() -> None:
    f = audio_features(tone(1500.0, amplitude=0.5))
    assert f["band_db_1_2k"] == pytest.approx(10 * math.log10(0.5 * 0.25), abs=1e-6)  # -9.03 dBFS
    for band in ("band_db_0_1k", "band_db_2_4k", "band_db_4_8k", "band_db_8_16k"):
        assert f[band] == pytest.approx(-120.0), band


def test_ndsi() -> None:
    assert audio_features(tone(5000.0))["ndsi"] == pytest.approx(1.0, abs=1e-9)
    assert audio_features(tone(1500.0))["ndsi"] == pytest.approx(-1.0, abs=1e-9)
    # biophony stops at 8 kHz: a 10 kHz tone is neither band
    assert audio_features(tone(10_000.0) + tone(1500.0))["ndsi"] == pytest.approx(-1.0, abs=1e-9)
    # 2 kHz: 1/6 of the power leaks into the 1968.75 Hz bin (anthrophony) -> (5 - 1) / (5 + 1)
    assert audio_features(tone(2000.0))["ndsi"] == pytest.approx(4 / 6, abs=1e-9)


def test_white_noise_is_flat_and_high_entropy_pure_tone_is_not() -> None:
    noise = np.random.default_rng(2).uniform(-0.5, 0.5, CHUNK).astype(np.float32)
    f_noise, f_tone = audio_features(noise), audio_features(tone(1000.0))
    assert 0.5 < f_noise["spectral_flatness"] < 0.62  # theory for Gaussian bins: exp(-gamma) = 0.561
    assert f_noise["h"] > 0.95
    assert f_noise["spectral_centroid_hz"] == pytest.approx(SR / 4, rel=0.02)
    assert f_noise["rms_dbfs"] == pytest.approx(10 * math.log10(1 / 12), abs=0.05)  # var of U(-.5, .5)
    # steady tone: flat Hilbert envelope (Ht = 1) times the entropy of (1/4, 1/2, 1/4) over 513 bins
    assert f_tone["h"] == pytest.approx(1.5 * math.log(2) / math.log(513), abs=1e-3)


def test_flatness_is_averaged_per_frame() -> None:
    noise = np.random.default_rng(5).normal(0.0, 0.2, CHUNK).astype(np.float32)
    half = np.concatenate([tone(1000.0)[: CHUNK // 2], noise[CHUNK // 2 :]])
    # tone frames contribute ~0, noise frames ~0.56 each: the average is about half the noise value
    flat_noise = audio_features(noise)["spectral_flatness"]
    assert audio_features(half)["spectral_flatness"] == pytest.approx(0.5 * flat_noise, abs=0.01)


def test_aci_hand_computed_and_steady_vs_pulsed() -> None:
    # bin 0: (|3-1| + |1-3|) / (1+3+1) = 0.8; bin 1: constant -> 0
    spec = np.array([[1.0, 2.0], [3.0, 2.0], [1.0, 2.0]])
    assert acoustic_complexity_index(spec) == pytest.approx(0.8)
    assert acoustic_complexity_index(np.zeros((4, 3))) == 0.0
    steady = tone(2000.0)
    t = np.arange(CHUNK) / SR
    pulsed = steady * ((t * 4) % 1 < 0.5)  # 4 Hz on/off
    aci_steady, aci_pulsed = audio_features(steady)["aci"], audio_features(pulsed)["aci"]
    assert aci_steady < 1e-3
    assert aci_pulsed > 10.0


def test_hilbert_envelope_and_entropy_of_dc_plus_tone() -> None:
    c = a = 0.25
    t = np.arange(CHUNK) / SR
    wave = (c + a * np.sin(2 * np.pi * 1000 * t)).astype(np.float32)
    # analytic signal of c + a sin(wt) is c + a sin(wt) - i a cos(wt)
    expected = np.sqrt(c * c + a * a + 2 * a * c * np.sin(2 * np.pi * 1000 * t))
    np.testing.assert_allclose(hilbert_envelope(wave[np.newaxis])[0], expected, atol=1e-6)

    def entropy(mass: np.ndarray) -> float:
        p = mass / mass.sum()
        return float(-(p * np.log(p)).sum() / math.log(len(mass)))

    # one-sided power: Hann-windowed DC -> 2/3 c^2 (0 Hz) + 1/3 c^2 (31.25 Hz); tone -> a^2/12, a^2/3, a^2/12
    power = np.zeros(513)
    power[[0, 1, 31, 32, 33]] = [2 / 3 * c * c, c * c / 3, a * a / 12, a * a / 3, a * a / 12]
    h_t = entropy(expected + 1e-10)
    h_f = entropy(np.sqrt(power + 1e-15))
    assert h_t < 0.99
    assert audio_features(wave)["h"] == pytest.approx(h_t * h_f, abs=1e-6)


def test_normalised_entropy() -> None:
    assert normalised_entropy(np.ones(8)) == pytest.approx(1.0)
    assert normalised_entropy(np.array([0.0, 5.0, 0.0, 0.0])) == pytest.approx(0.0, abs=1e-12)
    assert normalised_entropy(np.array([1.0, 1.0, 0.0, 0.0])) == pytest.approx(0.5)
    assert normalised_entropy(np.zeros(4)) == pytest.approx(1.0)  # all-zero row counts as uniform


def test_power_spectrogram_is_calibrated_to_mean_square() -> None:
    noise = np.random.default_rng(3).normal(0.0, 0.1, (1, CHUNK))
    power = power_spectrogram(noise)
    assert power.shape == (1, 1 + (CHUNK - 1024) // 512, 513)
    assert power.sum(axis=-1).mean() == pytest.approx(0.01, rel=0.02)


def test_dc_level_nyquist_and_other_sample_rate() -> None:
    assert audio_features(np.full(CHUNK, 0.5, np.float32))["rms_dbfs"] == pytest.approx(20 * math.log10(0.5))
    # +-0.5 alternating = a 16 kHz (Nyquist) tone, mean square 0.25; the Nyquist bin closes the top band
    nyquist = audio_features(0.5 * (-1.0) ** np.arange(CHUNK))
    assert nyquist["band_db_8_16k"] == pytest.approx(10 * math.log10(0.25), abs=1e-9)
    f = audio_features(tone(1000.0, n=16_000 * 5, sr=16_000), sample_rate=16_000)
    assert f["spectral_centroid_hz"] == pytest.approx(1000.0, abs=1e-6)
    assert f["band_db_8_16k"] == pytest.approx(-120.0)
    # at 16 kHz the alternating signal's power splits 1/3 (7984 Hz bin) : 2/3 (8000 Hz = Nyquist bin),
    # and the Nyquist bin is counted once, in the top band
    low_rate = audio_features(0.5 * (-1.0) ** np.arange(80_000), sample_rate=16_000)
    assert low_rate["band_db_4_8k"] == pytest.approx(10 * math.log10(0.25 / 3), abs=1e-9)
    assert low_rate["band_db_8_16k"] == pytest.approx(10 * math.log10(0.25 * 2 / 3), abs=1e-9)


def test_silence_conventions() -> None:
    f = audio_features(np.zeros(CHUNK, np.float32))
    assert f["rms_dbfs"] == -120.0
    assert f["band_db_2_4k"] == -120.0
    assert f["spectral_centroid_hz"] == 0.0 and f["spectral_bandwidth_hz"] == 0.0
    assert f["spectral_flatness"] == pytest.approx(1.0)
    assert f["aci"] == 0.0 and f["ndsi"] == 0.0
    assert f["h"] == pytest.approx(1.0)


@pytest.mark.parametrize("length", [0, 1, 10, 1023, 1024, 1500])
def test_audio_edge_cases_are_finite(length: int) -> None:
    rng = np.random.default_rng(length)
    for wave in (np.zeros(length, np.float32), rng.uniform(-1, 1, length).astype(np.float32)):
        f = audio_features(wave)
        assert tuple(f) == AUDIO_FEATURE_NAMES
        assert all(math.isfinite(v) for v in f.values()), f
        assert 0.0 <= f["h"] <= 1.0 and -1.0 <= f["ndsi"] <= 1.0


def test_audio_batch_matches_single_and_shapes() -> None:
    rng = np.random.default_rng(4)
    waves = np.stack(
        [tone(1234.0), rng.normal(0, 0.2, CHUNK).astype(np.float32), np.zeros(CHUNK, np.float32)] * 2
    )
    batch = audio_features_batch(waves)
    assert tuple(batch) == AUDIO_FEATURE_NAMES
    for i in range(len(waves)):
        single = audio_features(waves[i])
        for name in AUDIO_FEATURE_NAMES:
            assert batch[name].shape == (len(waves),) and batch[name].dtype == np.float64
            assert batch[name][i] == pytest.approx(single[name], rel=1e-9, abs=1e-9), name


def test_audio_input_validation() -> None:
    assert audio_features_batch(np.zeros((0, 100), np.float32))["aci"].shape == (0,)
    with pytest.raises(TypeError):
        audio_features_batch(np.zeros((1, 100), np.int16))
    with pytest.raises(ValueError):
        audio_features_batch(np.zeros(100, np.float32))
    with pytest.raises(ValueError):
        audio_features(np.zeros(100, np.float32), sample_rate=0)


def test_feature_set_version() -> None:
    assert FEATURE_SET_VERSION == "v1"
    assert len(set(FRAME_FEATURE_NAMES)) == len(FRAME_FEATURE_NAMES) == 9
    assert len(set(AUDIO_FEATURE_NAMES)) == len(AUDIO_FEATURE_NAMES) == 12
